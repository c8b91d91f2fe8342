package com.alpype;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import org.junit.Test;

public class RLActionTest {

    @Test
    public void valuesAreReadAsTheyAreBoxed() {
        RLAction discrete = new RLAction(new Number[] {1});
        assertEquals(1, discrete.getIntAction());
        assertEquals(Integer.valueOf(1), discrete.getInt(0));
        RLAction box = new RLAction(new Number[] {0.25});
        assertEquals(0.25, box.getDoubleAction(), 0);
        RLAction mixed = new RLAction(new Number[] {-0.5, 1});
        assertEquals(Double.valueOf(-0.5), mixed.getDouble(0));
        assertEquals(Integer.valueOf(1), mixed.getInt(1));
        assertArrayEquals(new Number[] {-0.5, 1}, mixed.getActions());
        assertEquals(-0.5, mixed.getNumber(0));
    }

    @Test
    public void readingAValueAsTheOtherTypeFailsAndSaysWhichGetterFits() {
        ClassCastException intAsDouble = assertThrows(ClassCastException.class, () -> new RLAction(new Number[] {1}).getDouble(0));
        assertTrue(intAsDouble.getMessage(), intAsDouble.getMessage().contains("getInt(0)"));
        ClassCastException doubleAsInt = assertThrows(ClassCastException.class, () -> new RLAction(new Number[] {1.0}).getIntAction());
        assertTrue(doubleAsInt.getMessage(), doubleAsInt.getMessage().contains("the Double 1.0"));
        IllegalStateException two = assertThrows(IllegalStateException.class, () -> new RLAction(new Number[] {1, 0}).getIntAction());
        assertTrue(two.getMessage(), two.getMessage().contains("use getInt(i)"));
    }

    @Test
    public void theValuesAreCopied() {
        Number[] values = {1};
        RLAction action = new RLAction(values);
        values[0] = 0;
        action.getActions()[0] = 0;
        assertEquals(1, action.getIntAction());
    }
}
