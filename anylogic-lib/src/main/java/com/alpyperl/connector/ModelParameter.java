package com.alpyperl.connector;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a public field of a {@link PlainJavaModel} as a parameter that Python may set by name
 * ({@code env_params}). Supported types: double, float, int, long, boolean and String. The
 * field's initial value is the default.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.FIELD)
public @interface ModelParameter {
}
