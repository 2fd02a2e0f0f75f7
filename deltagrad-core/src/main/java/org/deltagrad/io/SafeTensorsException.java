package org.deltagrad.io;

/** A safetensors file that does not follow the format, or holds what deltagrad cannot load. */
public class SafeTensorsException extends org.deltagrad.DeltagradException {
    private static final long serialVersionUID = 1L;

    public SafeTensorsException(String message) {
        super(message);
    }

    public SafeTensorsException(String message, Throwable cause) {
        super(message, cause);
    }
}
