package com.alpyperl.launcher;

import com.alpyperl.launcher.runtime.ModelFolder;
import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.rules.TemporaryFolder;

/** Lays out model folders for the test models, whose classes stay in the test classes directory. */
public final class TestFolders {
    private TestFolders() {
    }

    /** A new model folder whose descriptor runs {@code modelClass}, opened. */
    public static ModelFolder open(TemporaryFolder temporary, Class<?> modelClass) throws IOException {
        File folder = temporary.newFolder();
        write(folder, "name=" + modelClass.getSimpleName() + "\n"
                + "model.class=" + modelClass.getName() + "\n"
                + "classpath=" + classesPathFrom(folder, modelClass) + "\n");
        return ModelFolder.open(folder.getPath());
    }

    /** The test classes directory (or jar) holding {@code type}, relative to {@code folder}. */
    public static String classesPathFrom(File folder, Class<?> type) {
        try {
            Path classes = Paths.get(type.getProtectionDomain().getCodeSource().getLocation().toURI());
            return folder.toPath().toAbsolutePath().relativize(classes.toAbsolutePath()).toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes {@code text} as the folder's descriptor. */
    public static void write(File folder, String text) throws IOException {
        Files.write(new File(folder, ModelFolder.DESCRIPTOR).toPath(), text.getBytes(StandardCharsets.UTF_8));
    }
}
