package com.alpyperl.connector;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.Test;

/** The small JSON reader and writer: values, number types, Python's special floats, errors with positions. */
public class JsonTest {

    @Test
    public void parsesLiteralsAndStrings() {
        assertEquals(Boolean.TRUE, Json.parse("true"));
        assertEquals(Boolean.FALSE, Json.parse(" false "));
        assertNull(Json.parse("null"));
        assertEquals("hello", Json.parse("\"hello\""));
        assertEquals("", Json.parse("\"\""));
    }

    @Test
    public void decodesEveryStringEscape() {
        assertEquals("a\"b\\c/d\be\ff\ng\rh\ti", Json.parse("\"a\\\"b\\\\c\\/d\\be\\ff\\ng\\rh\\ti\""));
        assertEquals("\u00e9\u20ac", Json.parse("\"\\u00e9\\u20AC\""));
        assertEquals("caf\u00e9", Json.parse("\"caf\u00e9\""));
    }

    @Test
    public void readsIntegralNumbersAsLongAndOthersAsDouble() {
        assertEquals(Long.valueOf(42), Json.parse("42"));
        assertEquals(Long.valueOf(-7), Json.parse("-7"));
        assertEquals(Long.valueOf(Long.MAX_VALUE), Json.parse("9223372036854775807"));
        assertEquals(Double.valueOf(2.5), Json.parse("2.5"));
        assertEquals(Double.valueOf(-0.125), Json.parse("-0.125"));
        assertEquals(Double.valueOf(1e20), Json.parse("1e20"));
        assertEquals(Double.valueOf(3e-4), Json.parse("3E-4"));
        // An integral value written with a decimal point stays a Double (Python wrote a float).
        assertEquals(Double.valueOf(2.0), Json.parse("2.0"));
    }

    @Test
    public void acceptsPythonsSpecialFloats() {
        assertEquals(Double.valueOf(Double.POSITIVE_INFINITY), Json.parse("Infinity"));
        assertEquals(Double.valueOf(Double.NEGATIVE_INFINITY), Json.parse("-Infinity"));
        assertTrue(Double.isNaN((Double) Json.parse("NaN")));
        assertEquals(Arrays.asList(Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY),
                Json.parse("[-Infinity, Infinity]"));
    }

    @Test
    public void parsesNestedObjectsAndArraysKeepingKeyOrder() {
        Object parsed = Json.parse(" { \"z\" : [1, 2.5, [\"x\", {}]], \"a\": {\"b\": null, \"c\": []}, \"m\": true } ");
        @SuppressWarnings("unchecked")
        Map<String, Object> map = (Map<String, Object>) parsed;
        assertEquals(Arrays.asList("z", "a", "m"), Arrays.asList(map.keySet().toArray()));
        List<?> z = (List<?>) map.get("z");
        assertEquals(Long.valueOf(1), z.get(0));
        assertEquals(Double.valueOf(2.5), z.get(1));
        assertEquals(Arrays.asList("x", Collections.emptyMap()), z.get(2));
        Map<?, ?> a = (Map<?, ?>) map.get("a");
        assertTrue(a.containsKey("b"));
        assertNull(a.get("b"));
        assertEquals(Collections.emptyList(), a.get("c"));
        assertEquals(Boolean.TRUE, map.get("m"));
    }

    @Test
    public void acceptsNestingUpToTheLimit() {
        String deep = repeat("[", 60) + "1" + repeat("]", 60);
        Object value = Json.parse(deep);
        for (int i = 0; i < 60; i++) {
            value = ((List<?>) value).get(0);
        }
        assertEquals(Long.valueOf(1), value);
    }

    @Test
    public void refusesTooDeepNestingWithoutOverflowingTheStack() {
        String deep = repeat("[", 100_000) + repeat("]", 100_000);
        assertMalformed(deep, "nested deeper than");
    }

    @Test
    public void refusesTruncatedTextWithThePosition() {
        assertMalformed("", "at character 0", "unexpected end of text");
        assertMalformed("[1, 2", "at character 5", "expected ']'");
        assertMalformed("{\"a\": 1", "at character 7", "expected '}'");
        assertMalformed("{\"a\"", "at character 4", "expected ':'");
        assertMalformed("\"abc", "at character 4", "unterminated string");
        assertMalformed("\"abc\\", "at character 5", "unterminated escape");
        assertMalformed("\"\\u12", "truncated \\u escape");
        assertMalformed("tru", "at character 0", "unexpected token");
        assertMalformed("-", "at character 1", "unexpected end of text");
    }

    @Test
    public void refusesTrailingGarbageWithThePosition() {
        assertMalformed("[1] x", "at character 4", "unexpected text after the JSON value");
        assertMalformed("1 2", "at character 2", "unexpected text after the JSON value");
        assertMalformed("{} {}", "at character 3", "unexpected text after the JSON value");
        assertMalformed("0x10", "at character 1", "unexpected text after the JSON value");
    }

    @Test
    public void refusesBadEscapesAndBadNumbers() {
        assertMalformed("\"a\\qb\"", "at character 4", "bad escape \\q");
        assertMalformed("\"\\uzzzz\"", "bad \\u escape");
        assertMalformed("1.2.3", "at character 3", "unexpected text after the JSON value");
        assertMalformed("01", "bad number '01' (leading zero)");
        assertMalformed("1.", "bad number '1.'");
        assertMalformed("+1", "at character 0", "unexpected character '+'");
        assertMalformed("1e", "bad number '1e'");
    }

    @Test
    public void refusesStructuralMistakes() {
        assertMalformed("[1,]", "at character 3", "unexpected character ']'");
        assertMalformed("[1 2]", "at character 3", "expected ']'");
        assertMalformed("{\"a\":1,}", "at character 7", "expected a quoted key");
        assertMalformed("{a:1}", "at character 1", "expected a quoted key");
        assertMalformed("{\"a\" 1}", "at character 5", "expected ':'");
        assertMalformed("@", "at character 0", "unexpected character '@'");
    }

    @Test
    public void refusesNull() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.parse(null));
        assertTrue(e.getMessage(), e.getMessage().contains("null"));
    }

    @Test
    public void writesNumbersThatReadBackExactly() {
        double[] values = {0, 1, -3, 0.1, -2.5e-7, 1e20, 123456789.123, Double.MAX_VALUE, Double.MIN_VALUE,
            Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY};
        for (double value : values) {
            StringBuilder out = new StringBuilder();
            Json.appendNumber(out, value);
            assertEquals(out.toString(), value, ((Number) Json.parse(out.toString())).doubleValue(), 0.0);
        }
        StringBuilder nan = new StringBuilder();
        Json.appendNumber(nan, Double.NaN);
        assertEquals("NaN", nan.toString());
        StringBuilder integral = new StringBuilder();
        Json.appendNumber(integral, 3.0);
        assertEquals("3", integral.toString());
    }

    @Test
    public void writesStringsThatReadBackExactly() {
        String text = "quote\" backslash\\ newline\n tab\t return\r bell\u0007 nul\u0000 euro\u20ac";
        StringBuilder out = new StringBuilder();
        Json.appendString(out, text);
        assertTrue(out.toString(), out.toString().contains("\\u0007"));
        assertEquals(text, Json.parse(out.toString()));
    }

    private static void assertMalformed(String text, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.parse(text));
        assertTrue(e.getMessage(), e.getMessage().startsWith("malformed JSON at character "));
        for (String fragment : fragments) {
            assertTrue("'" + fragment + "' missing from: " + e.getMessage(), e.getMessage().contains(fragment));
        }
    }

    private static String repeat(String s, int times) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < times; i++) {
            out.append(s);
        }
        return out.toString();
    }
}
