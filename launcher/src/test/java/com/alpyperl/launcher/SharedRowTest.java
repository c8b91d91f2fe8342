package com.alpyperl.launcher;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;

import com.alpyperl.connector.ActionMask;
import com.alpyperl.connector.Spaces;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.Test;

/** The row's layout: where the observation and the reward lie, and in which precision. */
public class SharedRowTest {
    private static final String DISCRETE = "{\"type\":\"Discrete\",\"n\":3,\"start\":0}";
    private static final double[] OBSERVATION = {0.1, -2.5, 1e40};

    private static String box(String dtype) {
        return "{\"type\":\"Box\",\"shape\":[3],\"low\":[-Infinity,-Infinity,-Infinity],"
                + "\"high\":[Infinity,Infinity,Infinity],\"dtype\":\"" + dtype + "\"}";
    }

    private static ByteBuffer rowBytes() {
        return ByteBuffer.allocateDirect(8 * (1 + 3 + 1)).order(ByteOrder.nativeOrder());
    }

    @Test
    public void aFloat32BoxCrossesAsFloatsInTheFirstHalfOfItsPart() {
        ByteBuffer bytes = rowBytes();
        SharedRow row = new SharedRow(box("float32"), DISCRETE, bytes, false);
        row.writeObservation(OBSERVATION, 7.25);

        for (int i = 0; i < OBSERVATION.length; i++) {
            assertEquals((float) OBSERVATION[i], bytes.getFloat(8 + 4 * i), 0);
        }
        assertEquals(Float.POSITIVE_INFINITY, bytes.getFloat(8 + 4 * 2), 0); // beyond float32: infinite
        assertEquals("the reward stays a double after the observation's doubles", 7.25, bytes.getDouble(8 * 4), 0);
        double[] read = new double[3];
        row.readObservation(read);
        assertArrayEquals(new double[] {(float) 0.1, -2.5, Double.POSITIVE_INFINITY}, read, 0);
    }

    @Test
    public void otherObservationsCrossAsDoubles() {
        ByteBuffer bytes = rowBytes();
        SharedRow row = new SharedRow(box("float64"), DISCRETE, bytes, false);
        row.writeObservation(OBSERVATION, 7.25);
        for (int i = 0; i < OBSERVATION.length; i++) {
            assertEquals(OBSERVATION[i], bytes.getDouble(8 + 8 * i), 0);
        }
        double[] read = new double[3];
        row.readObservation(read);
        assertArrayEquals(OBSERVATION, read, 0);
    }

    @Test
    public void aTableOfAgentsCrossesAsDoublesWhateverItsBoxSays() {
        ByteBuffer bytes = rowBytes();
        String table = box("float32").replaceFirst("}$", ",\"agent_types\":[]}");
        SharedRow row = new SharedRow(table, DISCRETE, bytes, false);
        row.writeObservation(OBSERVATION, 0);
        assertEquals(OBSERVATION[0], bytes.getDouble(8), 0);
    }

    @Test
    public void aMaskedObservationCrossesAsDoubles() {
        ByteBuffer bytes = ByteBuffer.allocateDirect(8 * (1 + 3 + 3 + 1)).order(ByteOrder.nativeOrder());
        String masked = ActionMask.observationSpace(Spaces.unboundedBox(3), Spaces.discrete(3)).toJson();
        SharedRow row = new SharedRow(masked, DISCRETE, bytes, true);
        row.writeObservation(row.observationWithMask(OBSERVATION, new boolean[] {true, false, true}), 0);
        double[] read = new double[6];
        row.readObservation(read);
        assertEquals(OBSERVATION[0], read[3], 0);
        assertEquals(OBSERVATION[0], bytes.getDouble(8 * 4), 0);
    }
}
