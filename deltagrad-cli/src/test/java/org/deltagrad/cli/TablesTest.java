package org.deltagrad.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class TablesTest {
    @Test
    void numbersRightTextLeft() {
        String table = Tables.render(new String[] {"model", "layers", "accuracy", "note"}, List.of(
                new String[] {"mlp", "3", "0.9512", "best"},
                new String[] {"linear", "1", "0.81", ""},
                new String[] {"deep-mlp", "12", "NaN", "diverged"}));
        assertEquals("""
                model     layers  accuracy  note
                --------  ------  --------  --------
                mlp            3    0.9512  best
                linear         1      0.81
                deep-mlp      12       NaN  diverged
                """, table);
    }

    @Test
    void confusionMatrix() {
        String table = Tables.render(new String[] {"true\\pred", "cat", "dog"}, List.of(
                new String[] {"cat", "950", "50"},
                new String[] {"dog", "7", "1,993"}));
        assertEquals("""
                true\\pred  cat    dog
                ---------  ---  -----
                cat        950     50
                dog          7  1,993
                """, table);
    }

    @Test
    void shortRowsArePaddedAndLongRowsRejected() {
        String table = Tables.render(new String[] {"a", "b"}, List.of(new String[] {"x"}, new String[] {null, "1"}));
        assertEquals("a  b\n-  -\nx\n   1\n", table);
        assertThrows(IllegalArgumentException.class,
                () -> Tables.render(new String[] {"a"}, List.<String[]>of(new String[] {"1", "2"})));
    }

    @Test
    void numberRecognition() {
        for (String s : new String[] {"0", "-1.5", "1e-4", "2.5E+3", "12.5%", "1,234", ".5", "-Infinity"}) {
            assertTrue(Tables.isNumber(s), s);
        }
        for (String s : new String[] {"mlp", "1.2.3", "x1", "", "1 2"}) {
            assertFalse(Tables.isNumber(s), s);
        }
    }
}
