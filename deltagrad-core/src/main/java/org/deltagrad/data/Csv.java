package org.deltagrad.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Reads a numeric CSV file into a classification {@link Dataset}: every column is a float feature
 * except the label column. Labels that are all non-negative integers are used as class ids;
 * otherwise the distinct label strings, sorted, become classes 0, 1, ... and keep their names.
 *
 * <p>Fields are separated by the delimiter (',' by default), may be quoted with '"' (a doubled
 * '"' inside quotes is a quote), and are trimmed. Blank lines are skipped.
 *
 * <p>{@link #table} reads a file with a header row as text, checked only for its shape: {@link CsvData} makes
 * {@code train --data}'s datasets from it.
 */
public final class Csv {
    private Csv() {}

    /** How to read a file; immutable, each setter returns a changed copy. */
    public static final class Options {
        private final Boolean header; // null: detect
        private final String labelName;
        private final int labelIndex;
        private final char delimiter;

        private Options(Boolean header, String labelName, int labelIndex, char delimiter) {
            this.header = header;
            this.labelName = labelName;
            this.labelIndex = labelIndex;
            this.delimiter = delimiter;
        }

        /** Header detected, label in the last column, comma-separated. */
        public static Options defaults() {
            return new Options(null, null, -1, ',');
        }

        /** Whether the first line is a header (otherwise it is detected: see {@link Csv#read}). */
        public Options header(boolean present) {
            return new Options(present, labelName, labelIndex, delimiter);
        }

        /** The label column by header name (implies a header). */
        public Options labelColumn(String name) {
            return new Options(header, name, 0, delimiter);
        }

        /** The label column by 0-based index; negative counts from the end (-1 is the last). */
        public Options labelColumn(int index) {
            return new Options(header, null, index, delimiter);
        }

        public Options delimiter(char c) {
            return new Options(header, labelName, labelIndex, c);
        }
    }

    // "\\d+(\\.\\d*)?" rather than "\\d+\\.?\\d*": the latter splits a run of digits in quadratically many ways
    // before it can reject a long cell.
    private static final Pattern NUMBER = Pattern.compile("[+-]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+)?");
    private static final Pattern CLASS_ID = Pattern.compile("\\d{1,9}");

    /** Reads with {@link Options#defaults()}. */
    public static Dataset read(Path file) {
        return read(file, Options.defaults());
    }

    /**
     * Reads {@code file}. Unless set in the options, the first line is taken as a header when one
     * of its feature cells is not a number, or when its label cell is not a number but the second
     * line's is.
     */
    public static Dataset read(Path file, Options options) {
        Lines lines = lines(file, options.delimiter);
        List<String[]> rows = lines.rows;
        List<Integer> lineNumbers = lines.numbers;
        if (rows.isEmpty()) throw new DataException(file + ": expected at least one data row, found an empty file");

        int columns = rows.get(0).length;
        if (columns < 2) {
            throw new DataException(file + ": expected at least 2 columns (features and a label), found " + columns
                    + " on line " + lineNumbers.get(0) + (options.delimiter == ',' ? "" : " (delimiter '" + options.delimiter + "')"));
        }
        int label = labelColumn(options, rows.get(0), columns, file);
        boolean header = options.header != null ? options.header
                : options.labelName != null || looksLikeHeader(rows, label);
        if (options.labelName != null && !header) {
            throw new DataException(file + ": label column \"" + options.labelName + "\" is named, but the file is read without a header");
        }
        String[] names = header ? rows.get(0) : null;
        int first = header ? 1 : 0;
        int n = rows.size() - first;
        if (n == 0) throw new DataException(file + ": expected data rows after the header, found none");

        int d = columns - 1;
        if ((long) n * d > Integer.MAX_VALUE - 8) {
            throw new DataException(file + ": " + n + " rows of " + d + " features are more values than a Java array holds");
        }
        float[] features = new float[n * d];
        String[] labelCells = new String[n];
        for (int r = 0; r < n; r++) {
            String[] cells = rows.get(first + r);
            int lineNo = lineNumbers.get(first + r);
            if (cells.length != columns) {
                throw new DataException(file + ": line " + lineNo + ": expected " + columns + " columns (as on line "
                        + lineNumbers.get(0) + "), found " + cells.length);
            }
            int k = 0;
            for (int c = 0; c < columns; c++) {
                if (c == label) {
                    labelCells[r] = cells[c];
                    if (cells[c].isEmpty()) throw cellError(file, lineNo, c, names, "a label", cells[c]);
                    continue;
                }
                if (!NUMBER.matcher(cells[c]).matches()) throw cellError(file, lineNo, c, names, "a number", cells[c]);
                float v = Float.parseFloat(cells[c]);
                if (Float.isInfinite(v)) throw cellError(file, lineNo, c, names, "a number within float32 range", cells[c]);
                features[r * d + k++] = v;
            }
        }
        return toDataset(features, d, labelCells, file, lineNumbers.subList(first, rows.size()), label, names);
    }

    /** The non-blank lines of a file split into cells, with their 1-based line numbers. */
    private record Lines(List<String[]> rows, List<Integer> numbers) {}

    private static Lines lines(Path file, char delimiter) {
        List<String[]> rows = new ArrayList<>();
        List<Integer> lineNumbers = new ArrayList<>();
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int lineNo = 0;
            while ((line = in.readLine()) != null) {
                lineNo++;
                if (lineNo == 1 && line.startsWith("\uFEFF")) line = line.substring(1); // byte order mark
                if (line.isBlank()) continue;
                rows.add(split(line, delimiter, file, lineNo));
                lineNumbers.add(lineNo);
            }
        } catch (NoSuchFileException e) {
            throw new DataException(file + ": no such file", e);
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new DataException(file + ": not UTF-8 text; expected a CSV file", e);
        } catch (IOException e) {
            throw new DataException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
        return new Lines(rows, lineNumbers);
    }

    /**
     * A comma-separated file whose first line names its columns: the names and each data row's cells, every row
     * as wide as the header.
     */
    public record Table(Path file, List<String> columns, List<String[]> rows, int[] lines) {
        /** The index of the column called {@code name}, or -1. */
        public int column(String name) {
            return columns.indexOf(name);
        }

        /** Data row {@code row}'s cell in {@code column}. */
        public String cell(int row, int column) {
            return rows.get(row)[column];
        }

        /** The cell as a finite float32; anything else is an error naming the file, line, column and the cell. */
        public float number(int row, int column) {
            String cell = cell(row, column);
            if (NON_FINITE.matcher(cell).matches()) throw error(row, column, "a finite number");
            if (!NUMBER.matcher(cell).matches()) throw error(row, column, "a number");
            float v = Float.parseFloat(cell);
            if (Float.isInfinite(v)) throw error(row, column, "a number within float32 range");
            return v;
        }

        private DataException error(int row, int column, String expected) {
            return cellError(file, lines[row], column, columns.toArray(String[]::new), expected, cell(row, column));
        }

        /** The cell as a class label: any text but an empty cell. */
        public String label(int row, int column) {
            String cell = cell(row, column);
            if (cell.isEmpty()) throw error(row, column, "a label");
            return cell;
        }

        /** The column's name and the file, for messages: {@code "x" in data.csv}. */
        public String describe(int column) {
            return "\"" + columns.get(column) + "\" in " + file;
        }
    }

    private static final Pattern NON_FINITE = Pattern.compile("(?i)[+-]?(nan|inf|infinity)");

    /**
     * Reads a comma-separated file with a header row: the header's names must be distinct and not empty, and every
     * data row must have as many cells. Cells stay text; {@link Table#number} reads one as a number.
     */
    public static Table table(Path file) {
        Lines lines = lines(file, ',');
        if (lines.rows.isEmpty()) {
            throw new DataException(file + ": empty file; expected a header row naming the columns, then data rows");
        }
        String[] header = lines.rows.get(0);
        int headerLine = lines.numbers.get(0);
        Map<String, Integer> seen = new HashMap<>();
        for (int c = 0; c < header.length; c++) {
            if (header[c].isEmpty()) {
                throw new DataException(file + ": line " + headerLine + ", column " + (c + 1) + ": expected a column name in the "
                        + "header, found an empty cell");
            }
            Integer before = seen.putIfAbsent(header[c], c);
            if (before != null) {
                throw new DataException(file + ": line " + headerLine + ": columns " + (before + 1) + " and " + (c + 1)
                        + " are both named \"" + header[c] + "\"; expected distinct column names");
            }
        }
        if (lines.rows.size() == 1) throw new DataException(file + ": expected data rows after the header, found none");
        List<String[]> rows = lines.rows.subList(1, lines.rows.size());
        int[] numbers = lines.numbers.subList(1, lines.numbers.size()).stream().mapToInt(Integer::intValue).toArray();
        for (int r = 0; r < rows.size(); r++) {
            if (rows.get(r).length != header.length) {
                throw new DataException(file + ": line " + numbers[r] + ": expected " + header.length + " columns (as in the header on line "
                        + headerLine + "), found " + rows.get(r).length);
            }
        }
        return new Table(file, List.of(header), List.copyOf(rows), numbers);
    }

    /** Class ids must be below this: every id up to the largest becomes a class and an output of the model. */
    static final int MAX_CLASS_ID = 65535;
    /** More classes than rows are accepted only up to this many, for small files whose ids have gaps. */
    static final int MAX_SPARSE_CLASSES = 1024;

    private static Dataset toDataset(float[] features, int d, String[] labelCells, Path file, List<Integer> lineNumbers,
                                     int labelColumn, String[] names) {
        int[] labels = new int[labelCells.length];
        if (Arrays.stream(labelCells).allMatch(s -> CLASS_ID.matcher(s).matches())) {
            int largest = 0;
            for (int i = 0; i < labels.length; i++) {
                labels[i] = Integer.parseInt(labelCells[i]);
                if (labels[i] > MAX_CLASS_ID) {
                    throw cellError(file, lineNumbers.get(i), labelColumn, names, "a class id in [0, " + (MAX_CLASS_ID + 1)
                            + ") (labels that are not all integers are taken as class names instead)", labelCells[i]);
                }
                if (labels[i] > labels[largest]) largest = i;
            }
            int classes = labels[largest] + 1;
            if (classes > Math.max(MAX_SPARSE_CLASSES, labels.length)) {
                throw new DataException(file + ": line " + lineNumbers.get(largest) + ": label " + labels[largest] + " makes "
                        + classes + " classes (0.." + labels[largest] + ") for " + labels.length + " rows; expected class ids "
                        + "0, 1, 2, ... without large gaps (at most " + MAX_SPARSE_CLASSES + " classes, or one per row)");
            }
            return Dataset.of(features, d, labels);
        }
        List<String> classes = List.copyOf(new TreeSet<>(Arrays.asList(labelCells)));
        Map<String, Integer> ids = new HashMap<>();
        for (String c : classes) ids.put(c, ids.size());
        for (int i = 0; i < labels.length; i++) labels[i] = ids.get(labelCells[i]);
        return new Dataset(features, d, labels, classes.size(), classes, null);
    }

    private static int labelColumn(Options options, String[] firstRow, int columns, Path file) {
        if (options.labelName != null) {
            int i = Arrays.asList(firstRow).indexOf(options.labelName);
            if (i < 0) {
                throw new DataException(file + ": expected a column named \"" + options.labelName + "\" in the header, found "
                        + String.join(", ", firstRow));
            }
            return i;
        }
        int i = options.labelIndex < 0 ? columns + options.labelIndex : options.labelIndex;
        if (i < 0 || i >= columns) {
            throw new DataException(file + ": label column index " + options.labelIndex + " is outside the " + columns + " columns");
        }
        return i;
    }

    private static boolean looksLikeHeader(List<String[]> rows, int label) {
        String[] first = rows.get(0);
        for (int c = 0; c < first.length; c++) {
            if (c != label && !NUMBER.matcher(first[c]).matches()) return true;
        }
        return rows.size() > 1 && rows.get(1).length > label
                && !NUMBER.matcher(first[label]).matches() && NUMBER.matcher(rows.get(1)[label]).matches();
    }

    private static DataException cellError(Path file, int lineNo, int column, String[] names, String expected, String found) {
        String columnName = names != null && column < names.length ? " (\"" + names[column] + "\")" : "";
        return new DataException(file + ": line " + lineNo + ", column " + (column + 1) + columnName + ": expected " + expected
                + ", found " + (found.isEmpty() ? "an empty cell" : "\"" + found + "\""));
    }

    private static String[] split(String line, char delimiter, Path file, int lineNo) {
        List<String> cells = new ArrayList<>();
        StringBuilder cell = new StringBuilder();
        boolean quoted = false;
        boolean blank = true; // the cell so far is whitespace: a quote here opens a quoted field
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted) {
                if (c != '"') {
                    cell.append(c);
                    blank &= Character.isWhitespace(c);
                } else if (i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    cell.append('"');
                    blank = false;
                    i++;
                } else {
                    quoted = false;
                }
            } else if (c == '"' && blank) {
                quoted = true;
            } else if (c == delimiter) {
                cells.add(cell.toString().trim());
                cell.setLength(0);
                blank = true;
            } else {
                cell.append(c);
                blank &= Character.isWhitespace(c);
            }
        }
        if (quoted) throw new DataException(file + ": line " + lineNo + ": unterminated quoted field");
        cells.add(cell.toString().trim());
        return cells.toArray(String[]::new);
    }
}
