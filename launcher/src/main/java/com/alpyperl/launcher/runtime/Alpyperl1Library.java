package com.alpyperl.launcher.runtime;

import java.io.File;
import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URISyntaxException;
import java.net.URL;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipFile;

/**
 * ALPypeRL 1.x models in AnyLogic exports. Such an export carries the 1.x library (the jar with
 * {@value #MARKER}, normally {@code lib/model0.jar}); alpyperl runs the model with its own
 * compatibility jar ({@value #JAR_NAME}: the 1.x API over alpyperl's connector) in that jar's
 * place, inside the export's class loader, and leaves the export's files as they are.
 */
final class Alpyperl1Library {
    /** The class that marks a jar as ALPypeRL 1.x's library. */
    static final String MARKER = "com/alpype/ALPypeRLConnector.class";
    /** The compatibility jar, next to the launcher's jar in alpyperl's package. */
    static final String JAR_NAME = "alpyperl1-compat.jar";
    /** A system property that names the compatibility jar (for tests that run from class folders). */
    static final String JAR_PROPERTY = "alpyperl.compatJar";
    /** The interface of 1.x root agents. */
    static final String CONTROLLER = "com.alpype.ALPypeRLClientController";

    private Alpyperl1Library() {
    }

    /**
     * The classpath with every jar that holds the 1.x library replaced by the compatibility jar
     * (which comes once, at the place of the first), or {@code null} if there is no 1.x library.
     */
    static List<URL> replaceIn(List<URL> classpath) {
        List<URL> replaced = new ArrayList<>();
        boolean found = false;
        for (URL url : classpath) {
            if (!holdsLibrary(url)) {
                replaced.add(url);
            } else if (!found) {
                found = true;
                replaced.add(compatibilityJar());
            }
        }
        return found ? replaced : null;
    }

    /** Whether {@code type} or a supertype implements the 1.x root agents' interface. */
    static boolean isController(Class<?> type) {
        for (Class<?> t = type; t != null; t = t.getSuperclass()) {
            for (Class<?> implemented : t.getInterfaces()) {
                if (implemented.getName().equals(CONTROLLER) || isController(implemented)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean holdsLibrary(URL url) {
        if (!url.getPath().endsWith(".jar")) {
            return false;
        }
        try (ZipFile jar = new ZipFile(new File(url.toURI()))) {
            return jar.getEntry(MARKER) != null;
        } catch (IOException | URISyntaxException | IllegalArgumentException e) {
            return false; // not a readable jar: the class loader reports it if the model needs it
        }
    }

    private static URL compatibilityJar() {
        File jar = locate();
        if (!jar.isFile()) {
            throw new ModelLoadException("this export is an ALPypeRL 1.x model, which alpyperl runs with its "
                    + "compatibility jar " + JAR_NAME + ", but " + jar + " is missing; reinstall alpyperl (in a "
                    + "source checkout, `gradle build` builds it)");
        }
        try {
            return jar.toURI().toURL();
        } catch (MalformedURLException e) {
            throw new ModelLoadException("bad path of the compatibility jar " + jar + ": " + e, e);
        }
    }

    private static File locate() {
        String configured = System.getProperty(JAR_PROPERTY);
        if (configured != null) {
            return new File(configured);
        }
        CodeSource source = Alpyperl1Library.class.getProtectionDomain().getCodeSource();
        try {
            File launcher = new File(source.getLocation().toURI());
            return new File(launcher.getParentFile(), JAR_NAME);
        } catch (URISyntaxException | NullPointerException | IllegalArgumentException e) {
            return new File(JAR_NAME);
        }
    }
}
