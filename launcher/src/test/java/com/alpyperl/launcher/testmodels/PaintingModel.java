package com.alpyperl.launcher.testmodels;

import com.alpyperl.connector.Drawable;
import java.awt.Color;
import java.awt.Graphics2D;

/** A {@link CountingModel} that draws a red square whose left edge is at 10 pixels per decision so far. */
public class PaintingModel extends CountingModel implements Drawable {
    /** The thread that drew last (the caller's, while the model thread waits). */
    public static volatile Thread drawnBy;

    @Override
    public void drawFrame(Graphics2D g, int width, int height) {
        drawnBy = Thread.currentThread();
        g.setColor(Color.RED);
        g.fillRect(10 * (int) getObservation()[0], 0, 10, 10);
    }
}
