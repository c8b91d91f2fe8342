package com.alpype;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;

import com.alpyperl.connector.Space;
import com.alpyperl.connector.Spaces;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.Test;

public class GymSpacesTest {

    @Test
    public void eachOneXSpaceIsTheSameAsAnAlpyperlSpace() {
        double inf = Double.POSITIVE_INFINITY;
        assertEquals(Spaces.discrete(3), GymSpaces.discrete(3).toSpace());
        assertEquals(Spaces.discrete(3, 1), GymSpaces.discrete(3, 1).toSpace());
        assertEquals(Spaces.box(-1, 2), GymSpaces.box(-1.0, 2.0).toSpace());
        assertEquals(Spaces.box(-inf, 2), GymSpaces.box(null, 2.0).toSpace()); // a null bound is unbounded
        assertEquals(Spaces.box(-inf, inf), GymSpaces.Box.unbounded().toSpace());
        assertEquals(Spaces.box(new double[] {0, -inf}, new double[] {1, 5}),
                GymSpaces.box(new Double[] {0.0, null}, new Double[] {1.0, 5.0}).toSpace());
        assertEquals(Spaces.box(0, 1, 3), GymSpaces.box(0.0, 1.0, 3).toSpace());
        assertEquals(Spaces.box(0, 1, 2, 3), GymSpaces.box(0.0, 1.0, 2, 3).toSpace());
        assertEquals(Spaces.box(new double[][] {{0, -inf}, {1, 2}}, new double[][] {{1, 1}, {inf, 3}}),
                GymSpaces.box(new Double[][] {{0.0, null}, {1.0, 2.0}}, new Double[][] {{1.0, 1.0}, {null, 3.0}}).toSpace());
        assertEquals(Spaces.multiBinary(4), GymSpaces.multibinary(4).toSpace());
        assertEquals(Spaces.multiDiscrete(2, 3), GymSpaces.multidiscrete(new int[] {2, 3}).toSpace());
        assertEquals(Spaces.multiDiscrete(new long[] {2, 3}, new long[] {1, -1}),
                GymSpaces.multidiscrete(new int[] {2, 3}, new int[] {1, -1}).toSpace());
        assertEquals(Spaces.tuple(Spaces.discrete(2), Spaces.box(0, 1)),
                GymSpaces.tuple(new GymSpace[] {GymSpaces.discrete(2), GymSpaces.box(0.0, 1.0)}).toSpace());
        Map<String, GymSpace> parts = new LinkedHashMap<>();
        parts.put("b", GymSpaces.discrete(2));
        parts.put("a", GymSpaces.box(0.0, 1.0));
        assertEquals(Spaces.dict().put("b", Spaces.discrete(2)).put("a", Spaces.box(0, 1)).build(),
                GymSpaces.dict(parts).toSpace());
        assertEquals(Spaces.dict().put("x", Spaces.multiBinary(2)).build(),
                GymSpaces.dict("x", GymSpaces.multibinary(2)).toSpace());
    }

    @Test
    public void aListOfOneSpaceIsThatSpaceAndALongerListATuple() {
        assertEquals(Spaces.discrete(2), ActionSpace.init().add(GymSpaces.discrete(2)).build().toSpace());
        ObservationSpace cartPole = ObservationSpace.init()
                .add(GymSpaces.box(-4.8, 4.8)).add(GymSpaces.Box.unbounded())
                .add(GymSpaces.box(-0.42, 0.42)).add(GymSpaces.Box.unbounded()).build();
        double inf = Double.POSITIVE_INFINITY;
        assertEquals(Spaces.tuple(Spaces.box(-4.8, 4.8), Spaces.box(-inf, inf), Spaces.box(-0.42, 0.42),
                Spaces.box(-inf, inf)), cartPole.toSpace());
        assertEquals(4, cartPole.size());
        assertEquals(Spaces.box(-0.42, 0.42), cartPole.get(2).toSpace());
        assertEquals(4, cartPole.toSpace().flatSize());
    }

    @Test
    public void spacesThatAreNoSpacesAreRefusedWhereTheModelDefinesThem() {
        assertThrows(IllegalArgumentException.class, () -> ActionSpace.init().build());
        assertThrows(IllegalArgumentException.class, () -> GymSpaces.box(2.0, 1.0));
        assertThrows(IllegalArgumentException.class, () -> GymSpaces.box(new Double[] {0.0}, new Double[] {1.0, 2.0}));
        assertThrows(IllegalArgumentException.class, () -> GymSpaces.discrete(0));
        assertThrows(IllegalArgumentException.class, () -> ObservationSpace.init().add(null));
        assertEquals(Arrays.asList("Discrete(2)"), Arrays.asList(GymSpaces.discrete(2).toString()));
    }
}
