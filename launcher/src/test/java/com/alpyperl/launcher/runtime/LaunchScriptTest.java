package com.alpyperl.launcher.runtime;

import static com.alpyperl.launcher.ModelSessionTest.assertContains;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import com.alpyperl.connector.Json;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * Reading AnyLogic launch scripts: the scripts in tests/launch-scripts against expected.json
 * there (which alpyperl's Python reader is tested against too), and finding a folder's script.
 */
public class LaunchScriptTest {
    @Rule
    public final TemporaryFolder temporary = new TemporaryFolder();

    private static final File SCRIPTS = new File(System.getProperty("alpyperl.launchScripts", "../tests/launch-scripts"));

    @Test
    public void readsEveryScriptAsExpected() throws IOException {
        @SuppressWarnings("unchecked")
        Map<String, Object> expected = (Map<String, Object>) Json.parse(read(new File(SCRIPTS, "expected.json")));
        assertTrue("expected.json lists scripts", expected.size() >= 8);
        for (Map.Entry<String, Object> entry : expected.entrySet()) {
            @SuppressWarnings("unchecked")
            Map<String, Object> outcome = (Map<String, Object>) entry.getValue();
            File file = new File(SCRIPTS, entry.getKey());
            if (outcome.containsKey("error")) {
                ModelLoadException e = assertThrows(entry.getKey(), ModelLoadException.class, () -> LaunchScript.read(file));
                assertContains(e.getMessage(), entry.getKey(), (String) outcome.get("error"));
                continue;
            }
            LaunchScript script = LaunchScript.read(file);
            assertEquals(entry.getKey(), outcome.get("classpath"), script.classpath());
            assertEquals(entry.getKey(), outcome.get("jvm_options"), script.jvmOptions());
            assertEquals(entry.getKey(), outcome.get("experiment_class"), script.experimentClass());
        }
    }

    @Test
    public void theModelNameIsTheScriptNameWithoutItsPlatformEnding() {
        String line = "java -cp model.jar com.acme.Simulation $*";
        assertEquals("Supply Chain", LaunchScript.parse("Supply Chain_linux.sh", line).modelName());
        assertEquals("CartPole", LaunchScript.parse("CartPole_mac", line).modelName());
        assertEquals("CartPole", LaunchScript.parse("CartPole_windows.bat", line.replace("$*", "%*")).modelName());
    }

    @Test
    public void aScriptThatCannotBeParsedIsNamedWithWhatWasExpected() {
        ModelLoadException e = assertThrows(ModelLoadException.class,
                () -> LaunchScript.parse("Broken_linux.sh", "#!/bin/bash\necho hello\n"));
        assertContains(e.getMessage(), "cannot read the launch script Broken_linux.sh",
                "expected a line of the form `java -cp <classpath> [JVM options] <experiment class> $*`");
        e = assertThrows(ModelLoadException.class, () -> LaunchScript.parse("Broken_linux.sh", "java -Xmx1g -cp"));
        assertContains(e.getMessage(), "-cp is not followed by a classpath");
        e = assertThrows(ModelLoadException.class, () -> LaunchScript.parse("Broken_linux.sh", "java -cp model.jar"));
        assertContains(e.getMessage(), "its java command names no experiment class");
    }

    @Test
    public void linesThatDoNotRunJavaAreIgnoredEvenWithStrayQuotes() {
        LaunchScript script = LaunchScript.parse("M_linux.sh", "echo \"unbalanced\nif ! command -v java; then exit 1; fi\n"
                + "java -cp model.jar:lib/x.jar com.acme.Simulation $*\n");
        assertEquals(Arrays.asList("model.jar", "lib/x.jar"), script.classpath());
    }

    @Test
    public void findsThisPlatformsScriptFirstAndNothingInOtherFolders() throws IOException {
        File folder = temporary.newFolder();
        assertNull(LaunchScript.find(folder));
        new File(folder, "model.jar").createNewFile();
        new File(folder, "notes_linux.sh.txt").createNewFile();
        assertNull(LaunchScript.find(folder));
        List<String> names = Arrays.asList("M_windows.bat", "M_mac", "M_linux.sh");
        for (String name : names) {
            new File(folder, name).createNewFile();
        }
        String os = System.getProperty("os.name").toLowerCase();
        String own = os.contains("win") ? "M_windows.bat" : os.contains("mac") ? "M_mac" : "M_linux.sh";
        assertEquals(own, LaunchScript.find(folder).getName());
        new File(folder, own).delete();
        assertTrue(names.contains(LaunchScript.find(folder).getName()));
    }

    private static String read(File file) throws IOException {
        return new String(Files.readAllBytes(file.toPath()), StandardCharsets.UTF_8);
    }
}
