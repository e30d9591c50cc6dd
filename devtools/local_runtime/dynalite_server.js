// dynalite (node_modules), except that a client going away in the middle of a request no longer takes the
// whole server down: dynalite rethrows every request error (architect/dynalite#183), so one killed worker
// process (the reliability suite's crash scenario) ended DynamoDB for everything else.
"use strict";
const path = require("path");

process.on("uncaughtException", (err) => {
  if (err && (err.code === "ECONNRESET" || err.code === "EPIPE")) {
    return; // that client is gone; every other connection carries on
  }
  console.error(err);
  process.exit(1);
});

require(path.join(__dirname, "..", "..", "node_modules", "dynalite", "cli.js"));
