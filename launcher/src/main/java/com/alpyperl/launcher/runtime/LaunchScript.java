package com.alpyperl.launcher.runtime;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The launch script of an AnyLogic "standalone Java application" export ({@code
 * <Name>_linux.sh}, {@code <Name>_mac} or {@code <Name>_windows.bat}), read for its one line
 * <pre>java -cp model.jar:lib/a.jar:resources:... -Xmx512m com.acme.model.Simulation $*</pre>
 * which names the classpath (relative to the export folder; {@code ;}-separated in the Windows
 * script), the JVM options and the experiment class. Shell quoting is understood (quotes and
 * backslashes in the Linux/macOS scripts, quotes and {@code ^} in the Windows script); repeated
 * classpath entries are kept once.
 *
 * <p>alpyperl/launch_script.py reads the JVM options the same way, before Python starts the JVM;
 * both are tested on the scripts in tests/launch-scripts.
 */
final class LaunchScript {
    /** The endings of launch script names, by platform: Linux, macOS, Windows. */
    static final List<String> SUFFIXES = Collections.unmodifiableList(Arrays.asList("_linux.sh", "_mac", "_windows.bat"));

    private static final Set<String> CLASSPATH_OPTIONS = new LinkedHashSet<>(Arrays.asList("-cp", "-classpath", "--class-path"));
    /** JVM options whose value is the next word. */
    private static final Set<String> OPTIONS_WITH_VALUE = new LinkedHashSet<>(Arrays.asList("-p", "--module-path",
            "--upgrade-module-path", "--add-modules", "--add-opens", "--add-exports", "--add-reads",
            "--limit-modules", "--patch-module"));
    private static final String EXPECTED = "expected a line of the form `java -cp <classpath> [JVM options] "
            + "<experiment class> $*` (`%*` in the Windows script), as AnyLogic writes when it exports a model "
            + "as a standalone Java application";

    private final String fileName;
    private final List<String> classpath;
    private final List<String> jvmOptions;
    private final String experimentClass;

    private LaunchScript(String fileName, List<String> classpath, List<String> jvmOptions, String experimentClass) {
        this.fileName = fileName;
        this.classpath = Collections.unmodifiableList(classpath);
        this.jvmOptions = Collections.unmodifiableList(jvmOptions);
        this.experimentClass = experimentClass;
    }

    /**
     * The launch script in {@code folder}, or null if it has none: the script for this platform
     * if present, else the Linux, macOS, Windows one (the first by name if there are several).
     */
    static File find(File folder) {
        List<String> order = new ArrayList<>(SUFFIXES);
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String own = os.contains("win") ? "_windows.bat" : os.contains("mac") || os.contains("darwin") ? "_mac" : "_linux.sh";
        order.remove(own);
        order.add(0, own);
        String[] names = folder.list();
        if (names == null) {
            return null;
        }
        Arrays.sort(names);
        for (String suffix : order) {
            for (String name : names) {
                if (name.endsWith(suffix) && name.length() > suffix.length() && new File(folder, name).isFile()) {
                    return new File(folder, name);
                }
            }
        }
        return null;
    }

    /** Reads and parses the script {@code file}. */
    static LaunchScript read(File file) {
        String text;
        try {
            text = new String(Files.readAllBytes(file.toPath()), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ModelLoadException("cannot read the launch script " + file + ": " + e, e);
        }
        return parse(file.getName(), text);
    }

    /** Parses the text of the launch script named {@code fileName} (its name tells the platform). */
    static LaunchScript parse(String fileName, String text) {
        boolean windows = fileName.toLowerCase(Locale.ROOT).endsWith(".bat");
        for (String line : logicalLines(text, windows ? '^' : '\\')) {
            List<String> words;
            try {
                words = windows ? windowsWords(line, fileName) : shellWords(line, fileName);
            } catch (ModelLoadException unbalancedQuotes) {
                if (line.contains("java")) {
                    throw unbalancedQuotes;
                }
                continue; // a line that does not concern the java command
            }
            int java = javaCommand(words);
            if (java >= 0 && words.subList(java + 1, words.size()).stream().anyMatch(CLASSPATH_OPTIONS::contains)) {
                return fromJavaCommand(fileName, words.subList(java + 1, words.size()), windows);
            }
        }
        throw new ModelLoadException("cannot read the launch script " + fileName + ": it has no java command with "
                + "a classpath; " + EXPECTED + ". Export the model again, or run it from its folder");
    }

    /** The script's file name. */
    String fileName() {
        return fileName;
    }

    /** The model's name: the script's name without its platform ending. */
    String modelName() {
        for (String suffix : SUFFIXES) {
            if (fileName.endsWith(suffix)) {
                return fileName.substring(0, fileName.length() - suffix.length());
            }
        }
        return fileName;
    }

    /** The classpath entries, relative to the export folder, each once, with {@code /} as separator. */
    List<String> classpath() {
        return classpath;
    }

    /** The JVM options, in order (the classpath option excluded). */
    List<String> jvmOptions() {
        return jvmOptions;
    }

    /** The experiment class the script runs. */
    String experimentClass() {
        return experimentClass;
    }

    private static LaunchScript fromJavaCommand(String fileName, List<String> words, boolean windows) {
        String classpath = null;
        List<String> options = new ArrayList<>();
        String mainClass = null;
        for (int i = 0; i < words.size() && mainClass == null; i++) {
            String word = words.get(i);
            if (CLASSPATH_OPTIONS.contains(word)) {
                if (i + 1 == words.size()) {
                    throw new ModelLoadException("cannot read the launch script " + fileName + ": " + word
                            + " is not followed by a classpath; " + EXPECTED);
                }
                classpath = words.get(++i);
            } else if (word.startsWith("--class-path=")) {
                classpath = word.substring("--class-path=".length());
            } else if (word.startsWith("-")) {
                options.add(word);
                if (OPTIONS_WITH_VALUE.contains(word) && i + 1 < words.size()) {
                    options.add(words.get(++i));
                }
            } else {
                mainClass = word;
            }
        }
        if (mainClass == null || !isClassName(mainClass)) {
            throw new ModelLoadException("cannot read the launch script " + fileName + ": "
                    + (mainClass == null ? "its java command names no experiment class"
                            : "its java command runs " + mainClass + ", which is not a class name")
                    + "; " + EXPECTED);
        }
        Set<String> entries = new LinkedHashSet<>();
        for (String entry : classpath.split(windows ? ";" : ":")) {
            String trimmed = entry.trim();
            if (trimmed.contains("$") || windows && trimmed.contains("%")) {
                throw new ModelLoadException("cannot read the launch script " + fileName + ": its classpath entry "
                        + trimmed + " uses a variable, but alpyperl reads the classpath literally; " + EXPECTED);
            }
            if (!trimmed.isEmpty()) {
                entries.add(windows ? trimmed.replace('\\', '/') : trimmed);
            }
        }
        if (entries.isEmpty()) {
            throw new ModelLoadException("cannot read the launch script " + fileName + ": its classpath is empty; " + EXPECTED);
        }
        return new LaunchScript(fileName, new ArrayList<>(entries), options, mainClass);
    }

    /** The index of the word that runs Java ({@code java}, {@code /usr/bin/java}, {@code java.exe}, ...), or -1. */
    private static int javaCommand(List<String> words) {
        for (int i = 0; i < words.size(); i++) {
            String word = words.get(i);
            String base = word.substring(Math.max(word.lastIndexOf('/'), word.lastIndexOf('\\')) + 1).toLowerCase(Locale.ROOT);
            if (base.equals("java") || base.equals("java.exe") || base.equals("javaw") || base.equals("javaw.exe")) {
                return i;
            }
        }
        return -1;
    }

    private static boolean isClassName(String name) {
        for (String part : name.split("\\.", -1)) {
            if (part.isEmpty() || !Character.isJavaIdentifierStart(part.charAt(0)) || part.charAt(0) == '$') {
                return false;
            }
            for (int i = 1; i < part.length(); i++) {
                if (!Character.isJavaIdentifierPart(part.charAt(i))) {
                    return false;
                }
            }
        }
        return true;
    }

    /** The script's lines, with continuation lines (ending in {@code continuation}) joined. */
    private static List<String> logicalLines(String text, char continuation) {
        List<String> lines = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : text.split("\r?\n|\r", -1)) {
            if (line.endsWith(String.valueOf(continuation)) && !line.endsWith(String.valueOf(continuation) + continuation)) {
                current.append(line, 0, line.length() - 1);
                continue;
            }
            lines.add(current.append(line).toString());
            current.setLength(0);
        }
        return lines;
    }

    /** The words of a line of a Linux/macOS shell script: quotes and backslashes as the shell reads them. */
    private static List<String> shellWords(String line, String fileName) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        boolean inWord = false;
        char quote = 0;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quote == '\'') {
                if (c == '\'') {
                    quote = 0;
                } else {
                    word.append(c);
                }
            } else if (quote == '"') {
                if (c == '"') {
                    quote = 0;
                } else if (c == '\\' && i + 1 < line.length() && "$`\"\\".indexOf(line.charAt(i + 1)) >= 0) {
                    word.append(line.charAt(++i));
                } else {
                    word.append(c);
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
                inWord = true;
            } else if (c == '\\' && i + 1 < line.length()) {
                word.append(line.charAt(++i));
                inWord = true;
            } else if (Character.isWhitespace(c)) {
                if (inWord) {
                    words.add(word.toString());
                    word.setLength(0);
                    inWord = false;
                }
            } else if (c == '#' && !inWord) {
                break; // a comment
            } else {
                word.append(c);
                inWord = true;
            }
        }
        if (quote != 0) {
            throw new ModelLoadException("cannot read the launch script " + fileName + ": a " + quote
                    + " quote is not closed in the line: " + line.trim());
        }
        if (inWord) {
            words.add(word.toString());
        }
        return words;
    }

    /** The words of a line of a Windows batch file: double quotes group, {@code ^} escapes; rem and :: lines are comments. */
    private static List<String> windowsWords(String line, String fileName) {
        String trimmed = line.trim();
        if (trimmed.startsWith("@")) {
            trimmed = trimmed.substring(1);
        }
        String lower = trimmed.toLowerCase(Locale.ROOT);
        if (lower.startsWith("::") || lower.equals("rem") || lower.startsWith("rem ") || lower.startsWith("rem\t")) {
            return Collections.emptyList();
        }
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        boolean inWord = false;
        boolean quoted = false;
        for (int i = 0; i < trimmed.length(); i++) {
            char c = trimmed.charAt(i);
            if (c == '"') {
                quoted = !quoted;
                inWord = true;
            } else if (c == '^' && !quoted && i + 1 < trimmed.length()) {
                word.append(trimmed.charAt(++i));
                inWord = true;
            } else if (Character.isWhitespace(c) && !quoted) {
                if (inWord) {
                    words.add(word.toString());
                    word.setLength(0);
                    inWord = false;
                }
            } else {
                word.append(c);
                inWord = true;
            }
        }
        if (quoted) {
            throw new ModelLoadException("cannot read the launch script " + fileName
                    + ": a \" quote is not closed in the line: " + trimmed);
        }
        if (inWord) {
            words.add(word.toString());
        }
        return words;
    }
}
