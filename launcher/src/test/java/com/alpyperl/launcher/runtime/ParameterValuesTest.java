package com.alpyperl.launcher.runtime;

import static com.alpyperl.launcher.ModelSessionTest.assertContains;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;

import java.util.Arrays;
import java.util.Collections;
import org.junit.Test;

/** Conversion of JSON values (Long, Double, Boolean, String) to the types of model parameters. */
public class ParameterValuesTest {

    @Test
    public void convertsFittingValues() {
        assertEquals(5, ParameterValues.convert(5L, int.class, "p"));
        assertEquals(-2147483648, ParameterValues.convert(-2147483648L, int.class, "p"));
        assertEquals(10_000_000_000L, ParameterValues.convert(10_000_000_000L, long.class, "p"));
        assertEquals(3.0, ParameterValues.convert(3L, double.class, "p"));
        assertEquals(0.25, ParameterValues.convert(0.25, double.class, "p"));
        assertEquals(Double.POSITIVE_INFINITY, ParameterValues.convert(Double.POSITIVE_INFINITY, double.class, "p"));
        assertEquals(0.5f, ParameterValues.convert(0.5, float.class, "p"));
        assertEquals(2f, ParameterValues.convert(2L, float.class, "p"));
        assertEquals(true, ParameterValues.convert(true, boolean.class, "p"));
        assertEquals("text", ParameterValues.convert("text", String.class, "p"));
        assertEquals("", ParameterValues.convert("", String.class, "p"));
    }

    @Test
    public void convertedValuesHaveTheFieldsBoxType() {
        assertEquals(Integer.class, ParameterValues.convert(5L, int.class, "p").getClass());
        assertEquals(Long.class, ParameterValues.convert(5L, long.class, "p").getClass());
        assertEquals(Double.class, ParameterValues.convert(5L, double.class, "p").getClass());
        assertEquals(Float.class, ParameterValues.convert(5L, float.class, "p").getClass());
    }

    @Test
    public void refusesValuesThatDoNotFit() {
        assertRefused(2.5, int.class, "value 2.5 does not fit");
        assertRefused(2.0, int.class, "value 2.0 does not fit");
        assertRefused(3_000_000_000L, int.class, "value 3000000000 does not fit");
        assertRefused(-2147483649L, int.class, "value -2147483649 does not fit");
        assertRefused(1.5, long.class, "value 1.5 does not fit");
        assertRefused("4", int.class, "value \"4\" does not fit");
        assertRefused(true, double.class, "value true does not fit");
        assertRefused(1L, boolean.class, "value 1 does not fit");
        assertRefused("true", boolean.class, "value \"true\" does not fit");
        assertRefused(5L, String.class, "value 5 does not fit");
        assertRefused(null, double.class, "value null does not fit");
        assertRefused(null, String.class, "value null does not fit");
    }

    @Test
    public void aLongRefusedValueIsCutInTheMessage() {
        String huge = "1".repeat(10_000_000);
        ModelLoadException e = assertThrows(ModelLoadException.class,
                () -> ParameterValues.convert(huge, double.class, "p"));
        assertContains(e.getMessage(), "(10000000 characters)");
        assertEquals(true, e.getMessage().length() < 400);
    }

    @Test
    public void refusedValuesNameTheParameterAndItsType() {
        ModelLoadException e = assertThrows(ModelLoadException.class,
                () -> ParameterValues.convert(2.5, int.class, "maxSteps"));
        assertContains(e.getMessage(), "parameter maxSteps", "int");
    }

    @Test
    public void onlyTheDocumentedTypesAreSupported() {
        for (Class<?> type : Arrays.asList(double.class, float.class, int.class, long.class, boolean.class,
                String.class)) {
            ParameterValues.requireSupported(type, "p");
        }
        for (Class<?> type : Arrays.asList(int[].class, Integer.class, short.class, char.class, Object.class)) {
            ModelLoadException e = assertThrows(ModelLoadException.class,
                    () -> ParameterValues.requireSupported(type, "p"));
            assertContains(e.getMessage(), "parameter p has type " + type.getSimpleName(),
                    "supported are double, float, int, long, boolean and String");
        }
    }

    @Test
    public void unknownNamesListTheKnownOnes() {
        assertContains(ParameterValues.unknown("speed", Arrays.asList("a", "b")).getMessage(),
                "no parameter 'speed'", "its parameters are a, b");
        assertContains(ParameterValues.unknown("speed", Collections.emptyList()).getMessage(),
                "its parameters are none");
    }

    private static void assertRefused(Object value, Class<?> type, String fragment) {
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> ParameterValues.convert(value, type, "p"));
        assertContains(e.getMessage(), fragment);
    }
}
