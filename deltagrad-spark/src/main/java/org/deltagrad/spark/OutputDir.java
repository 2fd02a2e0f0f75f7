package org.deltagrad.spark;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;

/**
 * Where a run's files go: a local directory, or a Hadoop file system URI ({@code hdfs://…}, {@code s3a://…}, {@code file://…}) that
 * the cluster can reach. The model file is written locally (atomically, as {@code train} writes it); for a URI the
 * files are then uploaded, each under a temporary name that is renamed into place, so that a reader never sees a
 * partly written file where the file system's rename is atomic (HDFS; on S3 it is a copy).
 */
final class OutputDir implements AutoCloseable {
    private final Path local;
    private final URI remote;
    private final Configuration hadoop;

    private OutputDir(Path local, URI remote, Configuration hadoop) {
        this.local = local;
        this.remote = remote;
        this.hadoop = hadoop;
    }

    /** {@code out} is a directory path or a URI with a scheme; a URI is staged in a local temporary directory. */
    static OutputDir of(String out, Configuration hadoop) throws IOException {
        if (!out.contains("://")) return new OutputDir(Path.of(out), null, null);
        return new OutputDir(Files.createTempDirectory("deltagrad-spark-out"), URI.create(out.endsWith("/") ? out : out + "/"), hadoop);
    }

    /** Where to write a file named {@code name}. */
    Path file(String name) {
        return local.resolve(name);
    }

    /** Uploads the written files (for a URI) and returns where each now is, for the "wrote …" lines. */
    List<String> publish(List<Path> written) throws IOException {
        List<String> where = new ArrayList<>();
        if (remote == null) {
            for (Path p : written) where.add(p.toString());
            return where;
        }
        FileSystem fs = FileSystem.get(remote, hadoop);
        fs.setWriteChecksum(false); // no .crc files beside ours on a local (file://) target
        for (Path p : written) {
            URI uri = remote.resolve(p.getFileName().toString());
            org.apache.hadoop.fs.Path target = new org.apache.hadoop.fs.Path(uri);
            org.apache.hadoop.fs.Path temporary = target.suffix(".tmp");
            fs.copyFromLocalFile(false, true, new org.apache.hadoop.fs.Path(p.toUri()), temporary);
            if (fs.exists(target) && !fs.delete(target, false)) throw new IOException(target + ": cannot replace it");
            if (!fs.rename(temporary, target)) throw new IOException(temporary + ": cannot rename it to " + target);
            where.add(remote.toString() + p.getFileName()); // as the user wrote it (URI.resolve drops an empty authority)
        }
        return where;
    }

    /** Removes the local staging directory of a URI. */
    @Override
    public void close() throws IOException {
        if (remote == null) return;
        try (Stream<Path> files = Files.list(local)) {
            for (Path p : (Iterable<Path>) files::iterator) Files.deleteIfExists(p);
        }
        Files.deleteIfExists(local);
    }
}
