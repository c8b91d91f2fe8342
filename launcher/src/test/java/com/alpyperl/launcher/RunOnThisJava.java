package com.alpyperl.launcher;

import org.junit.runner.JUnitCore;
import org.junit.runner.Request;
import org.junit.runner.Result;
import org.junit.runner.notification.Failure;

/**
 * Runs test classes with JUnit on whatever Java runs this, and fails if any test failed or was
 * skipped: Gradle runs the tests on the Java that runs Gradle, so tests/test_vector_env.py runs
 * them again with this on a newer Java, where the virtual-thread tests must run instead of being
 * skipped. Usage: {@code java -cp <test classpath> com.alpyperl.launcher.RunOnThisJava <class>...};
 * prints one summary line, exits with 0 only if every test ran and passed.
 */
public final class RunOnThisJava {
    private RunOnThisJava() {
    }

    public static void main(String[] classNames) throws ClassNotFoundException {
        Class<?>[] classes = new Class<?>[classNames.length];
        for (int i = 0; i < classNames.length; i++) {
            classes[i] = Class.forName(classNames[i]);
        }
        Result result = new JUnitCore().run(Request.classes(classes));
        for (Failure failure : result.getFailures()) {
            System.out.println("FAILED " + failure.getTestHeader() + ": " + failure.getTrace());
        }
        System.out.println("Java " + System.getProperty("java.version") + ": " + result.getRunCount() + " run, "
                + result.getFailureCount() + " failed, " + result.getAssumptionFailureCount() + " skipped, "
                + result.getIgnoreCount() + " ignored");
        boolean allRan = result.getAssumptionFailureCount() == 0 && result.getIgnoreCount() == 0;
        System.exit(result.wasSuccessful() && allRan ? 0 : 1);
    }
}
