package com.alpyperl.launcher;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import com.alpyperl.connector.ModelException;
import com.alpyperl.connector.Space;
import com.alpyperl.connector.Spaces;
import com.alpyperl.launcher.testmodels.CountingModel;
import com.alpyperl.launcher.testmodels.PaintingModel;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.junit.After;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.junit.rules.Timeout;

/** {@link ModelSession#render}: the model draws while it waits, and the pixels land in the caller's buffer. */
public class RenderTest {
    private static final Space OBSERVATION = Spaces.unboundedBox(3);
    private static final Space ACTION = Spaces.discrete(3);
    private static final byte[] RED = {0, 0, (byte) 255};    // blue, green, red
    private static final byte[] WHITE = {(byte) 255, (byte) 255, (byte) 255};

    @Rule
    public final TemporaryFolder temporary = new TemporaryFolder();
    @Rule
    public final Timeout timeout = Timeout.seconds(60);

    private ModelSession session;

    @After
    public void close() {
        if (session != null) {
            session.close();
        }
    }

    private DrivenSession open(Class<?> model) throws IOException {
        session = new ModelSession(TestFolders.open(temporary, model));
        session.describeModel(10);
        return new DrivenSession(session, OBSERVATION, ACTION, 10);
    }

    private static byte[] pixel(ByteBuffer frame, int width, int x, int y) {
        int at = 3 * (y * width + x);
        return new byte[] {frame.get(at), frame.get(at + 1), frame.get(at + 2)};
    }

    @Test
    public void theModelDrawsOnTheCallersThreadWhileItWaits() throws IOException {
        DrivenSession env = open(PaintingModel.class);
        assertTrue(session.modelDraws());
        ByteBuffer frame = ByteBuffer.allocateDirect(40 * 20 * 3);
        assertFalse("nothing to draw before the first episode", session.render(frame, 40, 20));
        env.reset(1);
        assertTrue(session.render(frame, 40, 20));
        assertEquals(Thread.currentThread(), PaintingModel.drawnBy);
        assertArrayEquals(RED, pixel(frame, 40, 5, 5));
        assertArrayEquals(WHITE, pixel(frame, 40, 15, 5));
        env.step(1);
        assertTrue(session.render(frame, 40, 20));
        assertArrayEquals(WHITE, pixel(frame, 40, 5, 5));
        assertArrayEquals(RED, pixel(frame, 40, 15, 5));
    }

    @Test
    public void aModelThatDoesNotDrawAndATooSmallBufferAreRefused() throws IOException {
        DrivenSession env = open(CountingModel.class);
        assertFalse(session.modelDraws());
        env.reset(1);
        ModelException failure = assertThrows(ModelException.class, () -> session.render(ByteBuffer.allocateDirect(300), 10, 10));
        assertTrue(failure.getMessage(), failure.getMessage().contains("does not implement com.alpyperl.connector.Drawable"));
        IllegalArgumentException small = assertThrows(IllegalArgumentException.class,
                () -> session.render(ByteBuffer.allocateDirect(299), 10, 10));
        assertTrue(small.getMessage(), small.getMessage().contains("cannot render 10 x 10 pixels into a buffer of 299 bytes"));
    }
}
