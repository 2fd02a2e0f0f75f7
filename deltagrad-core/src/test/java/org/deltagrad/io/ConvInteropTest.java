package org.deltagrad.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.deltagrad.DType;
import org.deltagrad.Tensor;
import org.deltagrad.autograd.Autograd;
import org.deltagrad.nn.AvgPool2d;
import org.deltagrad.nn.BatchNorm;
import org.deltagrad.nn.BatchNorm1d;
import org.deltagrad.nn.BatchNorm2d;
import org.deltagrad.nn.Conv2d;
import org.deltagrad.nn.Flatten;
import org.deltagrad.nn.Init;
import org.deltagrad.nn.Linear;
import org.deltagrad.nn.MaxPool2d;
import org.deltagrad.nn.ReLU;
import org.deltagrad.nn.Sequential;
import org.deltagrad.nn.Unflatten;
import org.deltagrad.optim.SGD;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A convolutional model with batch norm moves between deltagrad and PyTorch both ways as a safetensors state dict,
 * and gives the same logits in eval mode (running statistics) and in training mode (batch statistics), whose update of
 * the running statistics is PyTorch's too.
 */
class ConvInteropTest {
    @TempDir
    Path dir;

    private static final int ROWS = 6;

    /** The PyTorch twin of {@link #model}: the same layers, so the same state_dict names and shapes. */
    private static final String TWIN = """
            nn = torch.nn
            net = nn.Sequential(nn.Unflatten(1, (1, 28, 28)), nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                                nn.Conv2d(4, 6, 3, stride=1, padding=1), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(),
                                nn.Linear(6 * 6 * 6, 10), nn.BatchNorm1d(10), nn.ReLU(), nn.Linear(10, 3))
            def logits(x):
                net.eval()
                with torch.no_grad():
                    evaluated = net(x).reshape(-1).tolist()
                net.train()
                with torch.no_grad():
                    trained = net(x).reshape(-1).tolist()
                stats = [s for bn in (net[2], net[10]) for s in bn.running_mean.tolist() + bn.running_var.tolist()]
                return {'eval': evaluated, 'train': trained, 'stats': stats}
            x = torch.tensor(json.load(open(sys.argv[2])), dtype=torch.float32).reshape(%d, 784)
            """.formatted(ROWS);

    static Sequential model(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        return new Sequential(new Unflatten(1, 28, 28), new Conv2d(1, 4, 3, seed), new BatchNorm2d(4), new ReLU(), new MaxPool2d(2),
                new Conv2d(4, 6, 3, 1, 1, Init.PYTORCH_DEFAULT, rng, DType.FLOAT32, true), new ReLU(), new AvgPool2d(2), new Flatten(),
                new Linear(6 * 6 * 6, 10, seed + 1), new BatchNorm1d(10), new ReLU(), new Linear(10, 3, seed + 2));
    }

    /**
     * As PyTorch's {@code logits(x)}: the logits in eval mode, then in training mode, then the running statistics that
     * training-mode forward left (each batch norm's means, then its variances).
     */
    private static float[][] logits(Sequential model, Tensor x) {
        try (Autograd.Scope s = Autograd.noGrad()) {
            float[] evaluated = model.eval().forward(x).toFloatArray();
            float[] trained = model.train().forward(x).toFloatArray();
            List<Float> stats = new java.util.ArrayList<>();
            for (int layer : new int[] {2, 10}) {
                BatchNorm bn = (BatchNorm) model.get(layer);
                for (Tensor t : List.of(bn.runningMean(), bn.runningVar())) for (float v : t.toFloatArray()) stats.add(v);
            }
            float[] statistics = new float[stats.size()];
            for (int i = 0; i < statistics.length; i++) statistics[i] = stats.get(i);
            return new float[][] {evaluated, trained, statistics};
        }
    }

    private Path input(Tensor x) throws Exception {
        Path file = dir.resolve("x.json");
        Files.writeString(file, floats(x.toFloatArray()));
        return file;
    }

    @SuppressWarnings("unchecked")
    private static float[][] parseLogits(String json) throws Json.ParseException {
        Map<String, Object> out = (Map<String, Object>) Json.parse(json.strip());
        float[][] both = new float[3][];
        int k = 0;
        for (String mode : List.of("eval", "train", "stats")) {
            List<Object> values = (List<Object>) out.get(mode);
            both[k] = new float[values.size()];
            for (int i = 0; i < values.size(); i++) both[k][i] = ((Number) values.get(i)).floatValue();
            k++;
        }
        return both;
    }

    private static String floats(float[] values) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < values.length; i++) b.append(i == 0 ? "" : ",").append(values[i]);
        return b.append(']').toString();
    }

    private static void assertClose(float[][] expected, float[][] actual) {
        String[] modes = {"eval logit", "train logit", "running statistic"};
        for (int m = 0; m < 3; m++) {
            assertEquals(expected[m].length, actual[m].length, modes[m]);
            for (int i = 0; i < expected[m].length; i++) assertEquals(expected[m][i], actual[m][i], 1e-5, modes[m] + " " + i);
        }
    }

    @Test
    void pytorchLoadsOurConvBatchNormStateDictStrictlyAndAgrees() throws Exception {
        assumeTrue(PyTorch.installedOrFailInCi(), "PyTorch is not installed");
        Sequential model = model(3);
        // a few steps, so the weights and the running statistics are no longer their initial values
        SGD sgd = new SGD(model.parameters(), 0.05);
        Tensor batch = Tensor.rand(DType.FLOAT32, new SplittableRandom(4), 8, 784);
        int[] labels = {0, 1, 2, 0, 1, 2, 0, 1};
        for (int step = 0; step < 3; step++) {
            sgd.zeroGrad();
            model.forward(batch).crossEntropy(labels).backward();
            sgd.step();
        }
        Path file = dir.resolve("ours.safetensors");
        SafeTensors.write(file, model.stateDict(), Map.of("format", "pt"), model.int64StateKeys());
        Tensor x = Tensor.rand(DType.FLOAT32, new SplittableRandom(5), ROWS, 784);

        String out = PyTorch.run(dir, PyTorch.SAFETENSORS_PY + TWIN + """
                state = load(sys.argv[1])
                assert state['2.num_batches_tracked'].dtype == torch.int64 and int(state['2.num_batches_tracked']) == 3
                assert list(state) == list(net.state_dict()), (list(state), list(net.state_dict()))
                net.load_state_dict(state, strict=True)
                print(json.dumps(logits(x)))
                """, file, input(x));
        assertClose(parseLogits(out), logits(model, x));
    }

    @Test
    void weLoadPyTorchsTrainedConvBatchNormStateDictAndAgree() throws Exception {
        assumeTrue(PyTorch.installedOrFailInCi(), "PyTorch is not installed");
        Tensor x = Tensor.rand(DType.FLOAT32, new SplittableRandom(6), ROWS, 784);
        Path file = dir.resolve("theirs.safetensors");
        String out = PyTorch.run(dir, PyTorch.SAFETENSORS_PY + """
                torch.manual_seed(0)
                """ + TWIN + """
                opt = torch.optim.SGD(net.parameters(), lr=0.05)
                for step in range(4):
                    batch, labels = torch.rand(8, 784), torch.randint(0, 3, (8,))
                    opt.zero_grad()
                    torch.nn.functional.cross_entropy(net(batch), labels).backward()
                    opt.step()
                save(sys.argv[1], net.state_dict())
                print(json.dumps(logits(x)))
                """, file, input(x));

        SafeTensors.Contents contents = SafeTensors.read(file);
        assertEquals(List.of("2.num_batches_tracked", "10.num_batches_tracked"), List.copyOf(contents.int64()));
        Sequential model = model(9);
        float[][] before = logits(model, x);
        model.loadStateDict(contents.tensors());
        assertEquals(4, ((BatchNorm2d) model.get(2)).numBatchesTracked());
        assertFalse(java.util.Arrays.equals(new float[4], ((BatchNorm2d) model.get(2)).runningMean().toFloatArray()));
        // written back, it is PyTorch's state again: the same names in the same order, dtypes (I64 counters) and bits
        Path again = dir.resolve("again.safetensors");
        SafeTensors.write(again, model.stateDict(), Map.of("format", "pt"), model.int64StateKeys());
        SafeTensors.Contents back = SafeTensors.read(again);
        assertEquals(List.copyOf(contents.tensors().keySet()), List.copyOf(back.tensors().keySet()));
        assertEquals(contents.int64(), back.int64());
        contents.tensors().forEach((name, t) -> assertArrayEquals(t.toDoubleArray(), back.tensors().get(name).toDoubleArray(), 0, name));

        float[][] ours = logits(model, x);
        assertClose(parseLogits(out), ours);
        // not vacuous: the model's own initial weights give other logits
        assertFalse(java.util.Arrays.equals(before[0], ours[0]));
    }
}
