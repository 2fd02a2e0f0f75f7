package org.deltagrad.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import org.deltagrad.data.Dataset;
import org.deltagrad.data.InputSpec;
import org.deltagrad.data.Datasets;
import org.deltagrad.io.ModelFile;
import org.deltagrad.train.Evaluation;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code deltagrad evaluate}: accuracy, per-class accuracy and the confusion matrix of a saved model. */
@Command(name = "evaluate", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Evaluate a saved model on a dataset: accuracy, per-class accuracy, confusion matrix.")
public final class EvaluateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "FILE", description = "Model weights (.safetensors) written by train.")
    Path model;
    @Option(names = "--dataset", paramLabel = "NAME", description = "Dataset (default: the one the model was trained on).")
    String dataset;
    @Option(names = "--data-dir", paramLabel = "DIR", description = "Directory holding the dataset's IDX files.")
    Path dataDir;
    @Option(names = "--data", paramLabel = "FILE.csv|DIR", description = "For a model trained with --data: a CSV file with the label "
            + "column, or a folder with one sub-folder of images per class, prepared as in training.")
    Path data;
    @Option(names = "--split", paramLabel = "NAME", description = "test or train (default: ${DEFAULT-VALUE}).")
    String split = "test";
    @Option(names = "--json", description = "Print one JSON object instead of tables.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        ModelFile.Loaded loaded = ModelFile.load(model);
        InputSpec own = PredictCommand.inputSpec(loaded, model);
        if (data != null || own != null) return evaluate(loaded, ownData(loaded, own), data.toString(), null);
        Object recorded = loaded.training().get("dataset");
        if (dataset == null && recorded != null && !(recorded instanceof String)) {
            throw new UserException(loaded.source() + ": expected \"training\": {\"dataset\": NAME} to be a string, found "
                    + recorded + "; pass --dataset");
        }
        String name = dataset != null ? dataset : (String) recorded;
        if (name == null) throw new UserException("the model file does not say its dataset; pass --dataset");
        if (!split.equals("test") && !split.equals("train")) throw new UserException("--split must be test or train, not '" + split + "'");
        Datasets.TrainTest data = Datasets.load(name, dataDir);
        Dataset ds = split.equals("test") ? data.test() : data.train();
        if (ds.numFeatures() != loaded.architecture().inputs() || ds.numClasses() != loaded.architecture().outputs()) {
            throw new UserException(String.format(Locale.ROOT, "%s has %d features and %d classes but the model expects %d and %d",
                    name, ds.numFeatures(), ds.numClasses(), loaded.architecture().inputs(), loaded.architecture().outputs()));
        }
        if (ds.size() == 0) throw new UserException(name + " has no " + split + " examples: there is nothing to evaluate");
        return evaluate(loaded, ds, name, split);
    }

    /** The labelled rows of --data, prepared as the model's own data was in training. */
    private Dataset ownData(ModelFile.Loaded loaded, InputSpec own) {
        if (own == null) {
            throw new UserException(model + " was trained on a built-in dataset; --data is for models trained with --data "
                    + "(use --dataset)");
        }
        if (data == null) {
            throw new UserException(model + " was trained on your own data; give a labelled CSV file or image folder with --data");
        }
        if (dataset != null || dataDir != null || !split.equals("test")) {
            throw new UserException("--data cannot be given with " + (dataset != null ? "--dataset" : dataDir != null ? "--data-dir" : "--split"));
        }
        InputSpec.Rows rows = own.rows(data);
        if (rows.labels() == null) {
            throw new UserException(data + ": no labels to evaluate against (" + (own.kind() == InputSpec.Kind.CSV
                    ? "expected the label column \"" + own.label() + "\"" : "expected one sub-folder per class") + ")");
        }
        return rows.toDataset(own, loaded.architecture().imageShape());
    }

    /** Prints the evaluation of {@code ds}: {@code name} is a built-in dataset's with its split, or (split null) a file's or folder's. */
    private Integer evaluate(ModelFile.Loaded loaded, Dataset ds, String name, String split) {
        Evaluation e = Evaluation.of(loaded.model(), ds, 1000);
        PrintWriter out = spec.commandLine().getOut();
        List<String> names = names(ds);
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put(split != null ? "dataset" : "data", name);
            if (split != null) m.put("split", split);
            m.put("examples", ds.size());
            m.put("accuracy", e.accuracy());
            Map<String, Object> perClass = new LinkedHashMap<>();
            for (int c = 0; c < names.size(); c++) perClass.put(names.get(c), e.perClassAccuracy()[c]);
            m.put("per_class_accuracy", perClass);
            m.put("confusion", e.confusion());
            out.print(Json.toJson(m));
            out.println();
            return 0;
        }
        out.printf(Locale.ROOT, "%s%s: %d examples, accuracy %.4f%n%n", name, split != null ? " " + split : "", ds.size(), e.accuracy());
        List<String[]> rows = new ArrayList<>();
        for (int c = 0; c < names.size(); c++) {
            rows.add(new String[] {Integer.toString(c), names.get(c), String.format(Locale.ROOT, "%.4f", e.perClassAccuracy()[c])});
        }
        out.println(Tables.render(new String[] {"class", "name", "accuracy"}, rows));
        out.println("confusion matrix (rows: true class, columns: predicted)");
        String[] header = new String[names.size() + 1];
        header[0] = "true\\pred";
        for (int c = 0; c < names.size(); c++) header[c + 1] = Integer.toString(c);
        List<String[]> matrix = new ArrayList<>();
        for (int c = 0; c < names.size(); c++) {
            String[] row = new String[names.size() + 1];
            row[0] = Integer.toString(c);
            for (int p = 0; p < names.size(); p++) row[p + 1] = Long.toString(e.confusion()[c][p]);
            matrix.add(row);
        }
        out.println(Tables.render(header, matrix));
        return 0;
    }

    static List<String> names(Dataset ds) {
        return classNames(ds.classNames(), ds.numClasses());
    }

    /** The given class names, or "class 0", "class 1", ... when a dataset or model has none. */
    static List<String> classNames(List<String> names, int classes) {
        if (names != null) return names;
        List<String> n = new ArrayList<>();
        for (int c = 0; c < classes; c++) n.add("class " + c);
        return n;
    }
}
