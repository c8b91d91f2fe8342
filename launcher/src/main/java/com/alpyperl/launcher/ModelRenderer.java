package com.alpyperl.launcher;

import com.alpyperl.connector.Drawable;
import com.alpyperl.connector.ModelException;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.nio.ByteBuffer;

/**
 * Has a model that implements {@link Drawable} draw its state, and copies the picture into a
 * caller's buffer: {@code height} rows of {@code width} pixels, 3 bytes per pixel in the order
 * blue, green, red (the raster of a {@link BufferedImage#TYPE_3BYTE_BGR} image, in one piece).
 * Keeps its image while the size stays the same.
 */
final class ModelRenderer {
    private final String modelName;
    private BufferedImage canvas;

    ModelRenderer(String modelName) {
        this.modelName = modelName;
    }

    /** Refuses a size that {@code target} cannot hold, before anything is drawn. */
    static void checkSize(ByteBuffer target, int width, int height) {
        if (width < 1 || height < 1 || (long) width * height * 3 > target.capacity()) {
            throw new IllegalArgumentException("cannot render " + width + " x " + height + " pixels into a buffer of "
                    + target.capacity() + " bytes (3 bytes per pixel are needed)");
        }
    }

    /**
     * Draws {@code model} (an {@code RLModel}, or a multi-agent model's root) on a white background and
     * copies the picture into {@code target}.
     */
    void draw(Object model, ByteBuffer target, int width, int height) {
        checkSize(target, width, height);
        if (!(model instanceof Drawable)) {
            throw new ModelException("The model " + modelName + " cannot draw itself: "
                    + model.getClass().getName() + " does not implement " + Drawable.class.getName(), null);
        }
        if (canvas == null || canvas.getWidth() != width || canvas.getHeight() != height) {
            canvas = new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR);
        }
        Graphics2D g = canvas.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height);
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            ((Drawable) model).drawFrame(g, width, height);
        } catch (Throwable t) {
            throw new ModelException("The model " + modelName + " failed: drawFrame() of the model threw " + t, t);
        } finally {
            g.dispose();
        }
        byte[] pixels = ((DataBufferByte) canvas.getRaster().getDataBuffer()).getData();
        target.clear();
        target.put(pixels);
    }
}
