import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { checkManifests, type Manifests, readManifests } from "../scripts/check_manifests.ts";

const root = fileURLToPath(new URL("..", import.meta.url));

const good: Manifests = {
  packageJson: {
    name: "gearman-ts",
    version: "1.2.3",
    license: "MIT",
    scripts: { prepack: "node scripts/build_npm.ts", pretest: "true", test: "bash t.sh" },
    exports: {
      ".": { types: "./dist/mod.d.ts", default: "./dist/mod.js" },
      "./cli": { types: "./dist/cli.d.ts", default: "./dist/cli.js" },
    },
    bin: { "gearman-ts": "./dist/cli.js" },
  },
  denoJson: {
    name: "@gearman-ts/gearman-ts",
    version: "1.2.3",
    license: "MIT",
    tasks: { test: "bash t.sh" },
    exports: { ".": "./mod.ts", "./cli": "./cli.ts" },
  },
  versionTs: 'export const VERSION = "1.2.3";\n',
};

function withPkg(patch: Record<string, unknown>): Manifests {
  return { ...good, packageJson: { ...(good.packageJson as object), ...patch } };
}

describe("checkManifests()", () => {
  it("checkManifests() passes on this repository's package.json, deno.json and src/version.ts", () => {
    assert.deepEqual(checkManifests(readManifests(root)), []);
  });

  it("checkManifests() finds nothing when versions and exports agree", () => {
    assert.deepEqual(checkManifests(good), []);
  });

  it("checkManifests() reports a version that differs between package.json and deno.json", () => {
    const problems = checkManifests({
      ...good,
      denoJson: { ...(good.denoJson as object), version: "1.2.4" },
    });
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /version: package.json has 1.2.3, deno.json has 1.2.4/);
  });

  it("checkManifests() reports a src/version.ts that lags behind", () => {
    const problems = checkManifests({ ...good, versionTs: 'export const VERSION = "1.0.0";' });
    assert.match(problems.join("\n"), /src\/version.ts has 1.0.0/);
  });

  it("checkManifests() reports an export subpath missing on either side", () => {
    const exports = { ".": { types: "./dist/mod.d.ts", default: "./dist/mod.js" } };
    const problems = checkManifests(withPkg({ exports, bin: {} }));
    assert.deepEqual(problems, ['exports: "./cli" is in deno.json but not package.json']);
    const extra = checkManifests({
      ...good,
      denoJson: { ...(good.denoJson as object), exports: { ".": "./mod.ts" } },
    });
    assert.match(extra.join("\n"), /"\.\/cli" is in package.json but not deno.json/);
  });

  it("checkManifests() reports an npm export that does not match the Deno file", () => {
    const exports = {
      ".": { types: "./dist/mod.d.ts", default: "./dist/mod.js" },
      "./cli": { types: "./dist/cli.d.ts", default: "./dist/main.js" },
    };
    assert.match(
      checkManifests(withPkg({ exports })).join("\n"),
      /package.json "\.\/cli" should be/,
    );
  });

  it("checkManifests() reports a bin that is not a built export", () => {
    const problems = checkManifests(withPkg({ bin: { "gearman-ts": "./bin/x.js" } }));
    assert.match(problems.join("\n"), /bin: "gearman-ts" -> \.\/bin\/x.js/);
  });

  it("checkManifests() reports a licence that differs between the manifests", () => {
    const problems = checkManifests({
      ...good,
      denoJson: { ...(good.denoJson as object), license: undefined },
    });
    assert.deepEqual(problems, ["license: package.json has MIT, deno.json has undefined"]);
  });

  it("checkManifests() reports an npm script without a deno task, and the reverse", () => {
    const problems = checkManifests(withPkg({ scripts: { test: "x", bench: "y", prebench: "z" } }));
    assert.deepEqual(problems, ['tasks: npm script "bench" has no deno.json task']);
    const extra = checkManifests({
      ...good,
      denoJson: { ...(good.denoJson as object), tasks: { test: "x", dev: "y" } },
    });
    assert.deepEqual(extra, ['tasks: deno.json task "dev" has no npm script']);
  });

  it("checkManifests() ignores npm's lifecycle scripts and pre/post hooks of a script", () => {
    const scripts = { prepack: "a", postinstall: "b", pretest: "c", posttest: "d", test: "e" };
    assert.deepEqual(checkManifests(withPkg({ scripts })), []);
  });
});
