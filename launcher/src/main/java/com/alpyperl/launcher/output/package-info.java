/**
 * What model threads print: {@link com.alpyperl.launcher.output.ModelOutput} routes
 * {@code System.out} and {@code System.err} by thread and keeps the tail of a run for its error
 * report; {@link com.alpyperl.launcher.output.InstanceOutput} sends one model instance's lines to
 * the console, the caller, a file or nowhere.
 */
package com.alpyperl.launcher.output;
