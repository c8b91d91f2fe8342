package com.alpyperl.launcher.runtime;

import com.alpyperl.connector.RLConnector;
import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.security.CodeSource;
import java.util.List;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * The connector version a model folder carries, against the one alpyperl runs it with. A model's
 * connector classes always come from alpyperl's own jar (see {@link ModelFolder}), so a model
 * whose export carries another connector version runs with alpyperl's all the same; this says so.
 * Versions are the {@code Implementation-Version} that the build stamps into each jar's manifest.
 */
final class ConnectorVersion {
    /** The class that marks a jar as a connector jar (anylogic-lib, or a jar that bundles it). */
    static final String MARKER = "com/alpyperl/connector/RLConnector.class";

    private ConnectorVersion() {
    }

    /**
     * A warning, for the model folder {@code folder} whose class loader reads {@code classpath}, if
     * a connector jar in it has another version than the connector this JVM runs; else null (also
     * when the running connector has no stamped version, as in the launcher's own tests).
     */
    static String mismatch(File folder, List<URL> classpath) {
        File running = runningJar();
        String version = running == null ? null : versionOf(running);
        if (version == null) {
            return null;
        }
        for (URL url : classpath) {
            File jar = fileOf(url);
            if (jar == null || !holdsConnector(jar)) {
                continue;
            }
            String carried = versionOf(jar);
            if (version.equals(carried)) {
                continue;
            }
            String shown = carried == null ? "a connector without a stamped version (built before alpyperl 2)"
                    : "connector " + carried;
            String relative = folder.toPath().relativize(jar.toPath()).toString();
            return "the model folder " + folder + " carries " + shown + " (" + relative + "), but alpyperl runs "
                    + "every model with its own connector, " + version + " (" + running + "). If the model fails or "
                    + "behaves differently here than in AnyLogic, give it this connector: `alpyperl jar --copy DIR` "
                    + "copies it into a folder (in AnyLogic, replace the model's dependency " + jar.getName()
                    + " with it and export again); or run the alpyperl version the model was built with";
        }
        return null;
    }

    /** The jar this JVM's connector classes come from, or null if they come from a class folder. */
    static File runningJar() {
        CodeSource source = RLConnector.class.getProtectionDomain().getCodeSource();
        File file = source == null ? null : fileOf(source.getLocation());
        return file != null && file.isFile() ? file : null;
    }

    /** The {@code Implementation-Version} in the manifest of {@code jar}, or null if it has none or cannot be read. */
    static String versionOf(File jar) {
        try (JarFile file = new JarFile(jar)) {
            Manifest manifest = file.getManifest();
            String version = manifest == null ? null : manifest.getMainAttributes().getValue("Implementation-Version");
            return version == null || version.trim().isEmpty() ? null : version.trim();
        } catch (IOException e) {
            return null;
        }
    }

    private static boolean holdsConnector(File jar) {
        try (JarFile file = new JarFile(jar)) {
            return file.getEntry(MARKER) != null;
        } catch (IOException e) {
            return false; // not a readable jar: the class loader reports it if the model needs it
        }
    }

    private static File fileOf(URL url) {
        if (url == null || !"file".equals(url.getProtocol()) || !url.getPath().endsWith(".jar")) {
            return null;
        }
        try {
            return new File(url.toURI());
        } catch (URISyntaxException | IllegalArgumentException e) {
            return null;
        }
    }
}
