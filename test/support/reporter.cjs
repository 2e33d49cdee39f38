// Mocha reporter: the standard "spec" output, then one closing line taken from mocha's own
// statistics, in the form CI reads: "N passed, N failed[, N skipped]".
// With REQUIRE_ALL=1 (CI) a skipped test counts as failed: nothing may quietly not run.
"use strict";
const Mocha = require("mocha");
const { Spec } = Mocha.reporters;
const { EVENT_RUN_END, EVENT_TEST_PENDING } = Mocha.Runner.constants;

class Summary extends Spec {
  constructor(runner, options) {
    super(runner, options);
    const strict = process.env.REQUIRE_ALL === "1";
    const skippedTitles = [];
    runner.on(EVENT_TEST_PENDING, (test) => skippedTitles.push(test.fullTitle()));
    runner.once(EVENT_RUN_END, () => {
      const s = runner.stats;
      let failed = s.failures;
      let skipped = s.pending;
      if (strict && skipped > 0) {
        for (const t of skippedTitles) process.stdout.write(`REQUIRE_ALL=1: skipped test counts as failed: ${t}\n`);
        failed += skipped;
        skipped = 0;
        process.exitCode = 1;
      }
      const tail = skipped > 0 ? `, ${skipped} skipped` : "";
      // Printed after spec's epilogue, so it is the last line of the run.
      process.nextTick(() => process.stdout.write(`${s.passes} passed, ${failed} failed${tail}\n`));
    });
  }
}
module.exports = Summary;
