package org.deltagrad.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Plain-text tables for terminals and logs (confusion matrices, benchmark results):
 * <pre>
 * model   layers  accuracy
 * ------  ------  --------
 * mlp          3    0.9512
 * linear       1    0.8100
 * </pre>
 * A column whose cells are all numbers (blank cells aside) is right-aligned, header included, so
 * digits line up; other columns are left-aligned.
 */
public final class Tables {
    private static final String GAP = "  ";
    // Numbers as we print them: signs, decimals, exponents, grouping commas, percent, NaN/Infinity.
    private static final Pattern NUMBER = Pattern.compile(
            "[-+]?(\\d[\\d,]*(\\.\\d*)?|\\.\\d+)([eE][-+]?\\d+)?%?|[-+]?(NaN|Infinity|inf)");

    private Tables() {
    }

    /** The table as text, one line per row after a header and a rule, each line ending in a newline. */
    public static String render(String[] header, List<String[]> rows) {
        int columns = header.length;
        List<String[]> body = new ArrayList<>(rows.size());
        for (String[] row : rows) {
            if (row.length > columns) {
                throw new IllegalArgumentException("row has " + row.length + " cells, header has " + columns);
            }
            String[] cells = new String[columns];
            for (int c = 0; c < columns; c++) {
                cells[c] = c < row.length && row[c] != null ? row[c] : "";
            }
            body.add(cells);
        }
        int[] width = new int[columns];
        boolean[] numeric = new boolean[columns];
        for (int c = 0; c < columns; c++) {
            width[c] = header[c].length();
            boolean sawNumber = false;
            boolean allNumbers = true;
            for (String[] cells : body) {
                width[c] = Math.max(width[c], cells[c].length());
                if (!cells[c].isBlank()) {
                    boolean isNumber = isNumber(cells[c]);
                    sawNumber |= isNumber;
                    allNumbers &= isNumber;
                }
            }
            numeric[c] = sawNumber && allNumbers;
        }
        StringBuilder sb = new StringBuilder();
        appendLine(sb, header, width, numeric);
        String[] rule = new String[columns];
        for (int c = 0; c < columns; c++) {
            rule[c] = "-".repeat(width[c]);
        }
        appendLine(sb, rule, width, numeric);
        for (String[] cells : body) {
            appendLine(sb, cells, width, numeric);
        }
        return sb.toString();
    }

    static boolean isNumber(String cell) {
        return NUMBER.matcher(cell.strip()).matches();
    }

    private static void appendLine(StringBuilder sb, String[] cells, int[] width, boolean[] rightAligned) {
        StringBuilder line = new StringBuilder();
        for (int c = 0; c < cells.length; c++) {
            if (c > 0) {
                line.append(GAP);
            }
            String pad = " ".repeat(width[c] - cells[c].length());
            line.append(rightAligned[c] ? pad + cells[c] : cells[c] + pad);
        }
        sb.append(line.toString().stripTrailing()).append('\n');
    }
}
