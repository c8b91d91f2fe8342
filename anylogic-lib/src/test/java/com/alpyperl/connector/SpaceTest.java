package com.alpyperl.connector;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.nio.DoubleBuffer;
import java.util.Arrays;
import java.util.ArrayList;
import org.junit.Test;
import org.junit.function.ThrowingRunnable;

/** Spaces: construction, flat sizes, Gymnasium-like names, the JSON form and refused definitions. */
public class SpaceTest {

    @Test
    public void problemWithSaysWhyFlatValuesAreNoValueOfTheSpace() {
        assertEquals(null, Spaces.discrete(3, -1).problemWith(values(1), 0));
        assertEquals("2 is outside -1..1", Spaces.discrete(3, -1).problemWith(values(2), 0));
        assertEquals("0.5 is not a whole number", Spaces.discrete(3).problemWith(values(9, 0.5), 1));
        Space.Box box = Spaces.box(new double[] {-1, 0}, new double[] {1, Double.POSITIVE_INFINITY});
        assertEquals(null, box.problemWith(values(-1, 1e300), 0));
        assertEquals("element 1 is -0.5, outside [0.0, Infinity]", box.problemWith(values(0, -0.5), 0));
        assertEquals("element 0 is NaN", box.problemWith(values(Double.NaN, 0), 0));
        Space counts = Space.fromJson("{\"type\":\"Box\",\"shape\":[2],\"low\":[0,0],\"high\":[9,9],\"dtype\":\"int64\"}");
        assertEquals(null, counts.problemWith(values(3, 9), 0));
        assertEquals("element 1 is 1.5, not a whole number (the space's dtype is int64)",
                counts.problemWith(values(3, 1.5), 0));
        assertEquals("element 1: 4 is outside 1..3",
                Spaces.multiDiscrete(new long[] {2, 3}, new long[] {0, 1}).problemWith(values(1, 4), 0));
        assertEquals("element 2: 2 is outside 0..1", Spaces.multiBinary(3).problemWith(values(1, 0, 2), 0));
        Space nested = Spaces.tuple(Spaces.discrete(2),
                Spaces.dict().put("speed", Spaces.box(0, 1, 1)).put("gear", Spaces.discrete(3)).build());
        assertEquals(null, nested.problemWith(values(1, 0.5, 2), 0));
        assertEquals("part 1: 'gear': 3 is outside 0..2", nested.problemWith(values(1, 0.5, 3), 0));
        assertEquals("part 1: 'speed': element 0 is 1.5, outside [0.0, 1.0]", nested.problemWith(values(0, 1.5, 0), 0));
    }

    private static DoubleBuffer values(double... flat) {
        return DoubleBuffer.wrap(flat);
    }

    @Test
    public void discrete() {
        Space.Discrete plain = Spaces.discrete(2);
        assertEquals(1, plain.flatSize());
        assertEquals(2, plain.getN());
        assertEquals(0, plain.getStart());
        assertEquals("Discrete(2)", plain.toString());
        Space.Discrete shifted = Spaces.discrete(3, -1);
        assertEquals(-1, shifted.getStart());
        assertEquals("Discrete(3, start=-1)", shifted.toString());
    }

    @Test
    public void box() {
        Space.Box vector = Spaces.box(-1, 1, 3);
        assertEquals(3, vector.flatSize());
        assertArrayEquals(new int[] {3}, vector.getShape());
        assertArrayEquals(new double[] {-1, -1, -1}, vector.getLow(), 0);
        assertArrayEquals(new double[] {1, 1, 1}, vector.getHigh(), 0);
        assertEquals("float32", vector.getDtype());
        assertEquals("Box(-1.0, 1.0, (3,), float32)", vector.toString());

        Space.Box matrix = Spaces.box(0, 2.5, 2, 3);
        assertEquals(6, matrix.flatSize());
        assertEquals("Box(0.0, 2.5, (2, 3), float32)", matrix.toString());

        Space.Box scalar = Spaces.box(0, 1);
        assertEquals(1, scalar.flatSize());
        assertEquals("Box(0.0, 1.0, (), float32)", scalar.toString());

        Space.Box unbounded = Spaces.unboundedBox(2);
        assertEquals("Box(-inf, inf, (2,), float32)", unbounded.toString());

        Space.Box perElement = Spaces.box(new double[] {0, -5}, new double[] {10, 5});
        assertEquals(2, perElement.flatSize());
        assertArrayEquals(new double[] {0, -5}, perElement.getLow(), 0);
        assertArrayEquals(new double[] {10, 5}, perElement.getHigh(), 0);
        assertEquals("Box([0.0, -5.0], [10.0, 5.0], (2,), float32)", perElement.toString());
    }

    @Test
    public void boxKeepsItsOwnCopiesOfTheBounds() {
        double[] low = {0, 0};
        double[] high = {1, 1};
        Space.Box box = Spaces.box(low, high);
        low[0] = -100;
        box.getHigh()[1] = 100;
        assertArrayEquals(new double[] {0, 0}, box.getLow(), 0);
        assertArrayEquals(new double[] {1, 1}, box.getHigh(), 0);
    }

    @Test
    public void multiDiscreteAndMultiBinary() {
        Space.MultiDiscrete md = Spaces.multiDiscrete(3, 4);
        assertEquals(2, md.flatSize());
        assertArrayEquals(new long[] {3, 4}, md.getNvec());
        assertArrayEquals(new long[] {0, 0}, md.getStart());
        assertEquals("MultiDiscrete([3 4])", md.toString());
        Space.MultiDiscrete shifted = Spaces.multiDiscrete(new long[] {2, 2}, new long[] {1, -1});
        assertEquals("MultiDiscrete([2 2], start=[1 -1])", shifted.toString());

        Space.MultiBinary mb = Spaces.multiBinary(5);
        assertEquals(5, mb.flatSize());
        assertEquals(5, mb.getN());
        assertEquals("MultiBinary(5)", mb.toString());
    }

    @Test
    public void tupleAndDictAddUpTheirParts() {
        Space.Tuple tuple = Spaces.tuple(Spaces.discrete(2), Spaces.box(-1, 1, 3));
        assertEquals(4, tuple.flatSize());
        assertEquals("Tuple(Discrete(2), Box(-1.0, 1.0, (3,), float32))", tuple.toString());

        Space.Dict dict = Spaces.dict().put("stock", Spaces.box(0, 100, 2)).put("day", Spaces.discrete(7))
                .put("flags", Spaces.multiBinary(3)).build();
        assertEquals(6, dict.flatSize());
        assertEquals(Arrays.asList("stock", "day", "flags"), new ArrayList<>(dict.getSpaces().keySet()));
        assertEquals("Dict('stock': Box(0.0, 100.0, (2,), float32), 'day': Discrete(7), 'flags': MultiBinary(3))",
                dict.toString());

        Space nested = Spaces.tuple(dict, Spaces.tuple(Spaces.multiDiscrete(2, 2, 2)));
        assertEquals(9, nested.flatSize());
    }

    @Test
    public void tupleAndDictPartsCannotBeChanged() {
        Space.Tuple tuple = Spaces.tuple(Spaces.discrete(2));
        assertThrows(UnsupportedOperationException.class, () -> tuple.getSpaces().add(Spaces.discrete(3)));
        Space.Dict dict = Spaces.dict().put("a", Spaces.discrete(2)).build();
        assertThrows(UnsupportedOperationException.class, () -> dict.getSpaces().put("b", Spaces.discrete(3)));
    }

    @Test
    public void everyKindRoundTripsThroughJson() {
        Space[] spaces = {
            Spaces.discrete(5),
            Spaces.discrete(3, -2),
            Spaces.box(-1, 1, 3),
            Spaces.box(0, 0.25, 2, 2),
            Spaces.box(0, 1),
            Spaces.unboundedBox(4),
            Spaces.box(new double[] {Double.NEGATIVE_INFINITY, -0.5}, new double[] {1e-9, 1e300}),
            Spaces.multiDiscrete(2, 3, 4),
            Spaces.multiDiscrete(new long[] {5}, new long[] {-10}),
            Spaces.multiBinary(7),
            Spaces.tuple(),
            Spaces.dict().build(),
        };
        for (Space space : spaces) {
            Space back = Space.fromJson(space.toJson());
            assertEquals(space.toJson(), back.toJson());
            assertEquals(space, back);
            assertEquals(space.hashCode(), back.hashCode());
            assertEquals(space.getClass(), back.getClass());
            assertEquals(space.toString(), back.toString());
            assertEquals(space.flatSize(), back.flatSize());
        }
    }

    @Test
    public void nestedSpacesRoundTripKeepingKeyOrder() {
        Space inner = Spaces.dict().put("z", Spaces.discrete(2)).put("a", Spaces.box(-1, 1, 2))
                .put("m", Spaces.tuple(Spaces.multiBinary(2), Spaces.discrete(4, 1))).build();
        Space outer = Spaces.tuple(inner, Spaces.unboundedBox(1), Spaces.dict().put("q", inner).build());

        Space back = Space.fromJson(outer.toJson());
        assertEquals(outer, back);
        assertEquals(outer.toString(), back.toString());
        Space.Dict backInner = (Space.Dict) ((Space.Tuple) back).getSpaces().get(0);
        assertEquals(Arrays.asList("z", "a", "m"), new ArrayList<>(backInner.getSpaces().keySet()));
        Space.Dict backDeep = (Space.Dict) ((Space.Dict) ((Space.Tuple) back).getSpaces().get(2)).getSpaces().get("q");
        assertEquals(Arrays.asList("z", "a", "m"), new ArrayList<>(backDeep.getSpaces().keySet()));
    }

    @Test
    public void readsTheJsonPythonWrites() {
        // As alpyperl/spaces.py writes them (json.dumps: spaces after separators, floats as x.0).
        Space box = Space.fromJson("{\"type\": \"Box\", \"shape\": [2], \"low\": [-Infinity, 0.0], "
                + "\"high\": [Infinity, 1.5], \"dtype\": \"float64\"}");
        assertEquals("float64", ((Space.Box) box).getDtype());
        assertArrayEquals(new double[] {Double.NEGATIVE_INFINITY, 0}, ((Space.Box) box).getLow(), 0);
        assertArrayEquals(new double[] {Double.POSITIVE_INFINITY, 1.5}, ((Space.Box) box).getHigh(), 0);

        Space dict = Space.fromJson("{\"type\": \"Dict\", \"spaces\": [[\"b\", {\"type\": \"Discrete\", \"n\": 2, "
                + "\"start\": 0}], [\"a\", {\"type\": \"MultiBinary\", \"n\": 3}]]}");
        assertEquals("Dict('b': Discrete(2), 'a': MultiBinary(3))", dict.toString());
    }

    @Test
    public void optionalJsonFieldsTakeGymnasiumDefaults() {
        assertEquals(Spaces.discrete(4), Space.fromJson("{\"type\":\"Discrete\",\"n\":4}"));
        assertEquals(Spaces.box(0, 1, 2), Space.fromJson("{\"type\":\"Box\",\"shape\":[2],\"low\":[0,0],\"high\":[1,1]}"));
        assertEquals(Spaces.multiDiscrete(2, 3), Space.fromJson("{\"type\":\"MultiDiscrete\",\"nvec\":[2,3]}"));
    }

    @Test
    public void equalityFollowsTheDefinition() {
        assertEquals(Spaces.discrete(3), Spaces.discrete(3));
        assertNotEquals(Spaces.discrete(3), Spaces.discrete(4));
        assertNotEquals(Spaces.discrete(3), Spaces.discrete(3, 1));
        assertNotEquals(Spaces.box(0, 1, 2), Spaces.box(0, 2, 2));
        assertNotEquals(Spaces.multiBinary(2), Spaces.multiDiscrete(2, 2));
        assertNotEquals(Spaces.dict().put("a", Spaces.discrete(2)).put("b", Spaces.discrete(3)).build(),
                Spaces.dict().put("b", Spaces.discrete(3)).put("a", Spaces.discrete(2)).build());
    }

    @Test
    public void refusesInvalidDefinitions() {
        assertRefused(() -> Spaces.discrete(0), "Discrete needs n > 0, got 0");
        assertRefused(() -> Spaces.discrete(-3, 1), "Discrete needs n > 0, got -3");
        assertRefused(() -> Spaces.box(1, 0, 2), "not an interval", "low 1.0", "high 0.0");
        assertRefused(() -> Spaces.box(0, Double.NaN, 1), "not an interval");
        assertRefused(() -> Spaces.box(new double[] {0, 1}, new double[] {1}), "needs 2 low and high bounds, got 2 and 1");
        assertRefused(() -> Spaces.box(0, 1, 0), "dimensions must be positive", "(0,)");
        assertRefused(() -> Spaces.box(0, 1, 2, -1), "dimensions must be positive", "(2, -1)");
        assertRefused(() -> Spaces.multiDiscrete(), "at least one entry");
        assertRefused(() -> Spaces.multiDiscrete(3, 0), "every n > 0", "[3, 0]");
        assertRefused(() -> Spaces.multiDiscrete(new long[] {2, 2}, new long[] {0}), "2 entries but 1 start values");
        assertRefused(() -> Spaces.multiBinary(0), "MultiBinary needs n > 0, got 0");
        assertRefused(() -> Spaces.tuple(Spaces.discrete(2), null), "Tuple part is null");
        assertRefused(() -> Spaces.dict().put("k", null).build(), "Dict entry 'k' is null");
        assertRefused(() -> Spaces.dict().put("a", Spaces.discrete(2)).put("a", Spaces.discrete(3)),
                "Dict key 'a' is already defined");
    }

    @Test
    public void refusesInvalidJson() {
        assertRefused(() -> Space.fromJson("{\"type\":\"Sequence\"}"), "unknown space type 'Sequence'",
                "known: Discrete, Box, MultiDiscrete, MultiBinary, Tuple, Dict");
        assertRefused(() -> Space.fromJson("{\"n\":3}"), "unknown space type 'null'");
        assertRefused(() -> Space.fromJson("[1, 2]"), "expected a JSON object describing a space");
        assertRefused(() -> Space.fromJson("{\"type\":\"Discrete\"}"), "'n' must be an integer, got null");
        assertRefused(() -> Space.fromJson("{\"type\":\"Discrete\",\"n\":2.5}"), "'n' must be an integer, got 2.5");
        assertRefused(() -> Space.fromJson("{\"type\":\"Discrete\",\"n\":0}"), "Discrete needs n > 0");
        assertRefused(() -> Space.fromJson("{\"type\":\"Box\",\"shape\":[3],\"low\":[0,0],\"high\":[1,1,1]}"),
                "needs 3 low and high bounds, got 2 and 3");
        assertRefused(() -> Space.fromJson("{\"type\":\"Box\",\"shape\":[1],\"low\":[\"a\"],\"high\":[1]}"),
                "space.low[0] is not a number");
        assertRefused(() -> Space.fromJson("{\"type\":\"MultiDiscrete\",\"nvec\":[2, 1.5]}"),
                "space.nvec[1] is not an integer");
        assertRefused(() -> Space.fromJson("{\"type\":\"Tuple\",\"spaces\":{}}"), "'spaces' must be a list");
        assertRefused(() -> Space.fromJson("{\"type\":\"Dict\",\"spaces\":[[\"a\"]]}"), "[key, space] pairs");
        assertRefused(() -> Space.fromJson("{\"type\":\"Dict\",\"spaces\":[[\"a\",{\"type\":\"Discrete\",\"n\":2}],"
                + "[\"a\",{\"type\":\"Discrete\",\"n\":3}]]}"), "Dict key 'a' appears twice");
        assertRefused(() -> Space.fromJson("{\"type\":\"Box\""), "malformed JSON");
    }

    @Test
    public void jsonErrorsInNestedSpacesSayWhere() {
        String json = "{\"type\":\"Tuple\",\"spaces\":[{\"type\":\"Discrete\",\"n\":2},"
                + "{\"type\":\"Dict\",\"spaces\":[[\"speed\",{\"type\":\"Blob\"}]]}]}";
        assertRefused(() -> Space.fromJson(json), "space[1]['speed']", "unknown space type 'Blob'");
    }

    private static void assertRefused(ThrowingRunnable build, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, build);
        for (String fragment : fragments) {
            assertTrue("'" + fragment + "' missing from: " + e.getMessage(), e.getMessage().contains(fragment));
        }
    }

    @Test
    public void layoutsCompareStructureButNotBoxBounds() {
        Space a = Spaces.dict().put("x", Spaces.box(0, 4.8, 3)).put("d", Spaces.discrete(3, 1)).build();
        Space rounded = Spaces.dict().put("x", Spaces.box(0, (float) 4.8, 3)).put("d", Spaces.discrete(3, 1)).build();
        assertTrue(a.hasSameLayout(rounded));
        assertFalse(a.hasSameLayout(Spaces.dict().put("x", Spaces.box(0, 4.8, 4)).put("d", Spaces.discrete(3, 1)).build()));
        assertFalse(a.hasSameLayout(Spaces.dict().put("y", Spaces.box(0, 4.8, 3)).put("d", Spaces.discrete(3, 1)).build()));
        assertFalse(a.hasSameLayout(Spaces.dict().put("x", Spaces.box(0, 4.8, 3)).put("d", Spaces.discrete(3)).build()));
        assertTrue(Spaces.tuple(Spaces.multiDiscrete(2, 3)).hasSameLayout(Spaces.tuple(Spaces.multiDiscrete(2, 3))));
        assertFalse(Spaces.tuple(Spaces.multiDiscrete(2, 3)).hasSameLayout(Spaces.tuple(Spaces.multiBinary(2))));
    }
}
