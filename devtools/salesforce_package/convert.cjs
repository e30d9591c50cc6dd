// Converts one package directory of the Salesforce DX project (source format) to Metadata API format with
// Salesforce's own library (@salesforce/source-deploy-retrieve, the code behind `sf project convert source`
// and `sf project deploy start`), offline: no org, no login.
// Usage: node convert.cjs <source dir> <output dir>. Prints JSON {components: [{type, fullName}], manifest}
// on stdout; exits 1 with the library's error message on stderr when the source does not convert.
"use strict";
const path = require("node:path");
const { ComponentSet, MetadataConverter } = require("@salesforce/source-deploy-retrieve");

async function main() {
  const [sourceDir, outputDir] = process.argv.slice(2);
  if (!sourceDir || !outputDir) throw new Error("usage: node convert.cjs <source dir> <output dir>");
  const components = ComponentSet.fromSource({ fsPaths: [path.resolve(sourceDir)] });
  const result = await new MetadataConverter().convert(components, "metadata", {
    type: "directory",
    outputDirectory: path.resolve(outputDir),
    genUniqueDir: false,
  });
  const listed = components
    .toArray()
    .map((c) => ({ type: c.type.name, fullName: c.fullName }))
    .sort((a, b) => (a.type + a.fullName).localeCompare(b.type + b.fullName));
  const manifest = await components.getPackageXml();
  process.stdout.write(JSON.stringify({ components: listed, manifest, outputDir: result.packagePath }) + "\n");
}

main().catch((error) => {
  process.stderr.write(`${error.name || "Error"}: ${error.message}\n`);
  process.exit(1);
});
