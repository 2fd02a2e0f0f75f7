package org.deltagrad.train;

import java.util.function.BinaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Training cannot produce a usable model (the loss or the weights stopped being numbers, the loss exploded):
 * the run stops and says where, with a hint.
 *
 * <p>The hint names {@link TrainConfig} fields, written {@code {lr}} or {@code {clipNorm=1}} in the message
 * template; {@link #getMessage()} shows them as fields ({@code lr}, {@code clipNorm = 1}) and a front end
 * shows them in its own terms with {@link #message(BinaryOperator)} (the command line: {@code --clip-norm 1}).
 */
public final class TrainingDivergedException extends org.deltagrad.DeltagradException {
    private static final long serialVersionUID = 1L;
    private static final Pattern FIELD = Pattern.compile("\\{(\\w+)(?:=([^}]*))?}");

    private final String template;

    public TrainingDivergedException(String template) {
        super(render(template, (field, value) -> value == null ? field : field + " = " + value));
        this.template = template;
    }

    /** The message with each config field (and suggested value, null if none) rendered by {@code field}. */
    public String message(BinaryOperator<String> field) {
        return render(template, field);
    }

    private static String render(String template, BinaryOperator<String> field) {
        Matcher m = FIELD.matcher(template);
        StringBuilder out = new StringBuilder();
        while (m.find()) m.appendReplacement(out, Matcher.quoteReplacement(field.apply(m.group(1), m.group(2))));
        return m.appendTail(out).toString();
    }
}
