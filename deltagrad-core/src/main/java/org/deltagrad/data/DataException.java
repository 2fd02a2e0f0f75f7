package org.deltagrad.data;

/** Data that cannot be found, read or used; the message names the file and what was expected. */
public class DataException extends org.deltagrad.DeltagradException {
    private static final long serialVersionUID = 1L;

    public DataException(String message) {
        super(message);
    }

    public DataException(String message, Throwable cause) {
        super(message, cause);
    }
}
