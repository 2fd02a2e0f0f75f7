package org.deltagrad.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** PyTorch in a Python process, for the interop tests: our files in PyTorch and PyTorch's in ours. */
final class PyTorch {
    private PyTorch() {}

    static final String PYTHON = "/usr/bin/python3";

    private static Boolean installed;

    /**
     * Whether {@code python3 -c "import torch"} works; without it the interop tests are skipped, except in CI (the
     * variable CI is set), which installs python3-torch, so that a broken install fails instead of hiding the tests.
     */
    static synchronized boolean installedOrFailInCi() {
        if (installed == null) installed = probe();
        if (!installed && System.getenv("CI") != null) {
            fail("PyTorch is not installed (" + PYTHON + " -c 'import torch' failed; apt-get install python3-torch): "
                    + "the PyTorch interop tests cannot run");
        }
        return installed;
    }

    private static boolean probe() {
        try {
            Process p = new ProcessBuilder(PYTHON, "-c", "import torch").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Runs a Python script in {@code dir}; returns its stdout (fails the test, with stderr, on a non-zero exit). */
    static String run(Path dir, String script, Object... args) throws IOException, InterruptedException {
        Path file = dir.resolve("script.py");
        Files.writeString(file, script);
        List<String> command = new ArrayList<>(List.of(PYTHON, file.toString()));
        for (Object a : args) command.add(a.toString());
        Path err = dir.resolve("python.err");
        Process p = new ProcessBuilder(command).redirectError(err.toFile()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "python timed out");
        assertEquals(0, p.exitValue(), "python failed:\n" + Files.readString(err));
        return out;
    }

    /**
     * Python: load(path) reads a safetensors file into a state dict, and save(path, state) writes one, with nothing but
     * json, struct and torch (the safetensors package is not needed).
     */
    static final String SAFETENSORS_PY = """
            import json, struct, sys, torch
            TYPES = {'F32': torch.float32, 'F64': torch.float64, 'I64': torch.int64}
            def load(path):
                with open(path, 'rb') as f:
                    data = f.read()
                (n,) = struct.unpack('<Q', data[:8])
                header = json.loads(data[8:8 + n])
                header.pop('__metadata__', None)
                body = bytearray(data[8 + n:])
                state = {}
                for name, info in header.items():
                    begin, end = info['data_offsets']
                    t = torch.frombuffer(body[begin:end], dtype=TYPES[info['dtype']]) if end > begin else torch.zeros(0)
                    state[name] = t.reshape(info['shape']).clone()
                return state
            def save(path, state):
                names = {v: k for k, v in TYPES.items()}
                header, body = {'__metadata__': {'format': 'pt'}}, b''
                for name, t in state.items():
                    values = t.detach().reshape(-1).tolist()
                    code = {'F32': 'f', 'F64': 'd', 'I64': 'q'}[names[t.dtype]]
                    raw = struct.pack('<%d%s' % (len(values), code), *values)
                    header[name] = {'dtype': names[t.dtype], 'shape': list(t.shape), 'data_offsets': [len(body), len(body) + len(raw)]}
                    body += raw
                h = json.dumps(header).encode('utf-8')
                h += b' ' * (-len(h) % 8)
                with open(path, 'wb') as f:
                    f.write(struct.pack('<Q', len(h)) + h + body)
            """;
}
