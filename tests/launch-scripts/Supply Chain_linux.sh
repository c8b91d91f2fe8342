#!/bin/bash
# An export whose folders have spaces in their names: quoted, escaped, over two lines.
cd "$(dirname "$0")"
exec "$JAVA_HOME/bin/java" -Xss4m -cp "model.jar:lib/my library.jar":lib/other\ library.jar:'resources' \
    -Xmx2g -Dmodel.title="Supply Chain" --add-opens java.base/java.lang=ALL-UNNAMED com.acme.supply.Simulation "$@"
