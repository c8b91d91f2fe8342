package com.alpyperl.connector;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import org.junit.Test;
import org.junit.function.ThrowingRunnable;

/** Typed reads of actions, the errors of wrong reads, nested parts and immutability. */
public class RLActionTest {

    @Test
    public void discreteReadsAsInt() {
        RLAction action = new RLAction(Spaces.discrete(3), new double[] {2});
        assertEquals(2, action.asInt());
        assertEquals(2L, action.asLong());
        assertEquals("2", action.toString());
        RLAction shifted = new RLAction(Spaces.discrete(3, -1), new double[] {-1});
        assertEquals(-1, shifted.asInt());
    }

    @Test
    public void boxReadsAsDoublesArrayAndMatrix() {
        RLAction one = new RLAction(Spaces.box(-1, 1, 1), new double[] {0.25});
        assertEquals(0.25, one.asDouble(), 0);
        assertArrayEquals(new double[] {0.25}, one.asDoubleArray(), 0);

        RLAction scalar = new RLAction(Spaces.box(-1, 1), new double[] {-0.5});
        assertEquals(-0.5, scalar.asDouble(), 0);

        RLAction vector = new RLAction(Spaces.box(-1, 1, 3), new double[] {0.1, 0.2, 0.3});
        assertArrayEquals(new double[] {0.1, 0.2, 0.3}, vector.asDoubleArray(), 0);
        assertEquals("[0.1, 0.2, 0.3]", vector.toString());

        RLAction matrix = new RLAction(Spaces.box(0, 10, 2, 3), new double[] {0, 1, 2, 3, 4, 5});
        double[][] rows = matrix.asDoubleMatrix();
        assertEquals(2, rows.length);
        assertArrayEquals(new double[] {0, 1, 2}, rows[0], 0);
        assertArrayEquals(new double[] {3, 4, 5}, rows[1], 0);
        assertArrayEquals(new double[] {0, 1, 2, 3, 4, 5}, matrix.asDoubleArray(), 0);
    }

    @Test
    public void multiDiscreteAndMultiBinaryReadAsIntegers() {
        RLAction md = new RLAction(Spaces.multiDiscrete(3, 5), new double[] {2, 4});
        assertArrayEquals(new int[] {2, 4}, md.asIntArray());
        assertEquals("[2, 4]", md.toString());

        RLAction mb = new RLAction(Spaces.multiBinary(3), new double[] {1, 0, 1});
        assertArrayEquals(new int[] {1, 0, 1}, mb.asIntArray());
        assertTrue(mb.asBooleanArray()[0]);
        assertEquals(false, mb.asBooleanArray()[1]);
        assertTrue(mb.asBooleanArray()[2]);
    }

    @Test
    public void tupleAndDictPartsNestAndFindTheirOffsets() {
        Space.Dict inner = Spaces.dict().put("a", Spaces.multiBinary(2)).put("b", Spaces.discrete(4)).build();
        Space.Tuple space = Spaces.tuple(Spaces.discrete(3), Spaces.box(-1, 1, 2), inner);
        RLAction action = new RLAction(space, new double[] {2, 0.5, -0.5, 1, 0, 3});

        assertEquals(2, action.get(0).asInt());
        assertArrayEquals(new double[] {0.5, -0.5}, action.get(1).asDoubleArray(), 0);
        assertArrayEquals(new int[] {1, 0}, action.get(2).get("a").asIntArray());
        assertEquals(3, action.get(2).get("b").asInt());
        assertSame(inner, action.get(2).getSpace());
        assertArrayEquals(new double[] {1, 0, 3}, action.get(2).toFlatArray(), 0);
        assertArrayEquals(new double[] {2, 0.5, -0.5, 1, 0, 3}, action.toFlatArray(), 0);
        assertEquals("(2, [0.5, -0.5], {'a': [1, 0], 'b': 3})", action.toString());
    }

    @Test
    public void dictInsideTupleInsideDict() {
        Space space = Spaces.dict()
                .put("first", Spaces.box(0, 1, 2, 2))
                .put("second", Spaces.tuple(Spaces.discrete(2), Spaces.dict().put("x", Spaces.box(0, 9, 1)).build()))
                .build();
        RLAction action = new RLAction(space, new double[] {0.1, 0.2, 0.3, 0.4, 1, 7});
        assertArrayEquals(new double[] {0.3, 0.4}, action.get("first").asDoubleMatrix()[1], 0);
        assertEquals(1, action.get("second").get(0).asInt());
        assertEquals(7.0, action.get("second").get(1).get("x").asDouble(), 0);
    }

    @Test
    public void badPartIndexOrKeyIsRefused() {
        RLAction tuple = new RLAction(Spaces.tuple(Spaces.discrete(2), Spaces.discrete(3)), new double[] {0, 1});
        IndexOutOfBoundsException index = assertThrows(IndexOutOfBoundsException.class, () -> tuple.get(2));
        assertTrue(index.getMessage(), index.getMessage().contains("parts 0..1, not 2"));
        assertThrows(IndexOutOfBoundsException.class, () -> tuple.get(-1));

        RLAction dict = new RLAction(Spaces.dict().put("speed", Spaces.discrete(2)).put("turn", Spaces.discrete(2))
                .build(), new double[] {0, 1});
        IllegalArgumentException key = assertThrows(IllegalArgumentException.class, () -> dict.get("sped"));
        assertTrue(key.getMessage(), key.getMessage().contains("no key 'sped'"));
        assertTrue(key.getMessage(), key.getMessage().contains("[speed, turn]"));
    }

    @Test
    public void wrongReadsNameTheRightMethod() {
        RLAction discrete = new RLAction(Spaces.discrete(3), new double[] {1});
        assertWrongRead(discrete::asDoubleArray, "asDoubleArray()", "Discrete(3)", "read it with asInt()");
        assertWrongRead(discrete::asDouble, "asDouble()", "read it with asInt()");
        assertWrongRead(discrete::asIntArray, "asIntArray()", "read it with asInt()");
        assertWrongRead(() -> discrete.get(0), "get(int)", "read it with asInt()");

        RLAction vector = new RLAction(Spaces.box(-1, 1, 3), new double[] {0, 0, 0});
        assertWrongRead(vector::asInt, "asInt()", "read it with asDoubleArray()");
        assertWrongRead(vector::asDouble, "asDouble()", "Box with one element", "read it with asDoubleArray()");
        assertWrongRead(vector::asDoubleMatrix, "asDoubleMatrix()", "two-dimensional Box", "read it with asDoubleArray()");
        assertWrongRead(vector::asBooleanArray, "asBooleanArray()", "read it with asDoubleArray()");

        RLAction one = new RLAction(Spaces.box(-1, 1, 1), new double[] {0});
        assertWrongRead(one::asInt, "read it with asDouble() or asDoubleArray()");

        RLAction mb = new RLAction(Spaces.multiBinary(2), new double[] {0, 1});
        assertWrongRead(mb::asDoubleArray, "read it with asIntArray() or asBooleanArray()");

        RLAction md = new RLAction(Spaces.multiDiscrete(2, 2), new double[] {0, 1});
        assertWrongRead(md::asBooleanArray, "asBooleanArray()", "MultiBinary", "read it with asIntArray()");
        assertWrongRead(md::asInt, "read it with asIntArray()");

        RLAction tuple = new RLAction(Spaces.tuple(Spaces.discrete(2)), new double[] {1});
        assertWrongRead(tuple::asInt, "read it with get(int index)");
        assertWrongRead(() -> tuple.get("a"), "get(String)", "read it with get(int index)");

        RLAction dict = new RLAction(Spaces.dict().put("a", Spaces.discrete(2)).build(), new double[] {1});
        assertWrongRead(dict::asInt, "read it with get(String key)");
        assertWrongRead(() -> dict.get(0), "get(int)", "read it with get(String key)");
    }

    @Test
    public void refusesValuesOfTheWrongLength() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new RLAction(Spaces.box(0, 1, 3), new double[] {0, 1}));
        assertTrue(e.getMessage(), e.getMessage().contains("Box(0.0, 1.0, (3,), float32) has 3 values, got 2"));
    }

    @Test
    public void changingTheSourceOrTheResultsDoesNotChangeTheAction() {
        double[] source = {0.1, 0.2, 0.3, 0.4};
        RLAction action = new RLAction(Spaces.box(0, 1, 2, 2), source);
        source[0] = 0.9;
        assertArrayEquals(new double[] {0.1, 0.2, 0.3, 0.4}, action.asDoubleArray(), 0);

        action.asDoubleArray()[1] = 0.9;
        action.asDoubleMatrix()[1][0] = 0.9;
        action.toFlatArray()[3] = 0.9;
        assertArrayEquals(new double[] {0.1, 0.2, 0.3, 0.4}, action.toFlatArray(), 0);

        double[] tupleSource = {1, 0, 1};
        RLAction tuple = new RLAction(Spaces.tuple(Spaces.discrete(2), Spaces.multiBinary(2)), tupleSource);
        tupleSource[2] = 0;
        tuple.get(1).asIntArray()[0] = 1;
        assertArrayEquals(new int[] {0, 1}, tuple.get(1).asIntArray());
    }

    private static void assertWrongRead(ThrowingRunnable read, String... fragments) {
        IllegalStateException e = assertThrows(IllegalStateException.class, read);
        for (String fragment : fragments) {
            assertTrue("'" + fragment + "' missing from: " + e.getMessage(), e.getMessage().contains(fragment));
        }
    }
}
