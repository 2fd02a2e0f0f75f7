package org.deltagrad.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.deltagrad.data.Datasets;
import org.deltagrad.nn.Conv2d;
import org.deltagrad.nn.Dropout;
import org.deltagrad.nn.ReLU;
import org.deltagrad.nn.Sequential;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Trainer on --arch models: convolutional networks train, resume bit for bit, and report per-layer diagnostics. */
class ConvTrainingTest {
    @TempDir
    Path tmp;

    static final Datasets.TrainTest BARS = new Datasets.TrainTest(Datasets.bars(300, 6, 1), Datasets.bars(90, 6, 2));

    private static TrainConfig config(String arch) {
        TrainConfig c = new TrainConfig();
        c.arch = arch;
        c.epochs = 4;
        c.lr = 0.01;
        c.batch = 16;
        return c;
    }

    @Test
    void aConvolutionalNetworkLearnsAndReportsEveryConvAndFcLayer() {
        TrainConfig config = config("conv4x3,maxpool2,fc12");
        config.diagnostics = true;
        config.epochs = 12;
        Trainer.Result r = new Trainer(config).fit(BARS, null);
        assertEquals("conv4x3,maxpool2,fc12", r.architecture().arch());
        assertTrue(r.last().testAccuracy() > 0.9, "test accuracy " + r.last().testAccuracy() + " (chance 1/3)");
        List<LayerDiagnostics> d = r.last().diagnostics();
        assertEquals(3, d.size(), "the conv, the fc and the output layer: " + d);
        for (LayerDiagnostics l : d) assertTrue(l.meanAbsDelta() > 0 && l.weightGradNorm() > 0 && l.biasGradNorm() > 0, l.toString());
        // the conv's ReLU gives a saturation figure (the fraction of inactive units), the logits none
        assertTrue(d.get(0).saturatedFraction() >= 0 && d.get(0).saturatedFraction() <= 1, d.toString());
        assertTrue(Double.isNaN(d.get(2).saturatedFraction()));
        // the conv layer's |∂C/∂b| is the norm of its δ summed over the batch and the image: not the fc's figure
        assertTrue(d.get(0).biasGradNorm() != d.get(1).biasGradNorm());
    }

    @Test
    void theDropoutFlagFollowsTheFcActivationsOnlyAndTokensAreLayers() {
        TrainConfig config = config("conv4x3,dropout0.25,fc12");
        config.dropout = 0.5;
        config.epochs = 1;
        Sequential model = new Trainer(config).fit(BARS, null).model();
        assertInstanceOf(Conv2d.class, model.get(1));
        assertInstanceOf(ReLU.class, model.get(2), "the conv's activation is not wrapped");
        assertEquals(0.25, assertInstanceOf(Dropout.class, model.get(3)).p());
        Sequential unit = assertInstanceOf(Sequential.class, model.get(6), "the fc's activation and --dropout");
        assertEquals(0.5, assertInstanceOf(Dropout.class, unit.get(1)).p());
    }

    @Test
    void aStoppedConvolutionalRunResumesToTheSameBits() {
        TrainConfig config = config("conv4x3,dropout0.2,maxpool2,fc12");
        Trainer.Result whole = new Trainer(config).fit(BARS, null);
        Path file = tmp.resolve("checkpoint.safetensors");
        Trainer t = new Trainer(config).checkpointTo(file, Map.of());
        assertThrows(IllegalStateException.class, () -> t.fit(BARS, new Trainer.Listener() {
            @Override
            public void batch(int epoch, int samples, double loss) {
                if (epoch == 3) throw new IllegalStateException("stop");
            }
        }));
        Checkpoint c = Checkpoint.read(file);
        assertEquals("conv4x3,dropout0.2,maxpool2,fc12", c.config().arch);
        Trainer.Result resumed = new Trainer(c.config()).resumeFrom(c).fit(BARS, null);
        CheckpointTest.assertSameRun(whole, resumed, "conv");
    }

    @Test
    void theArchitectureIsValidatedAndRecordedCanonically() {
        TrainConfig c = config(" Conv4x3s1 ,MAXPOOL2, fc12");
        c.validate();
        assertEquals("conv4x3,maxpool2,fc12", c.arch);
        assertEquals("conv4x3,maxpool2,fc12", c.toMap().get("arch"));
        assertTrue(!c.toMap().containsKey("layers"));
        TrainConfig.InvalidValue bad = assertThrows(TrainConfig.InvalidValue.class, () -> config("conv4x3,fc").validate());
        assertEquals("arch", bad.field());
        assertEquals("--arch: 'fc' (layer 2): expected fc<N>, e.g. fc100", bad.messageNaming("--arch"));
        TrainConfig big = config("conv4x7");
        TrainConfig.InvalidValue shape = assertThrows(TrainConfig.InvalidValue.class, () -> big.architecture(BARS.train()));
        assertTrue(shape.messageNaming("--arch").startsWith("--arch: 'conv4x7' (layer 1) would shrink the image below 1x1"), shape.getMessage());
    }

    @Test
    void aLastBatchOfOneRowIsRefusedUpFrontWhenTheModelHasBatchNorm() {
        TrainConfig c = config("conv4x3,bn,fc12");
        c.batch = 299; // 300 rows: a last batch of 1, which batch norm cannot normalise
        TrainConfig.InvalidValue one = assertThrows(TrainConfig.InvalidValue.class, () -> c.architecture(BARS.train()));
        assertEquals("--batch 299 leaves a last batch of 1 of the 300 training examples, and bn needs more than one value per "
                + "channel when training; choose another batch size", one.messageNaming("--batch"));
        c.batch = 298;
        c.architecture(BARS.train());
        TrainConfig noNorm = config("conv4x3,fc12");
        noNorm.batch = 299;
        noNorm.architecture(BARS.train());
    }
}
