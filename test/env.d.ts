declare namespace Cloudflare {
  interface Env {
    /** Test-only binding: the real migrations, read by vitest.config.ts. */
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    TESSERA_ADMIN_KEY: string;
    TESSERA_SECRET: string;
    FUZZ_RUNS?: string;
    FUZZ_SEED?: string;
    LANE_RUNS?: string;
    LANE_SEED?: string;
    /** The `worker-shards` project runs every worker test with four owner shards. */
    TESSERA_SHARDS?: string;
  }
}

declare namespace Cloudflare {
  interface GlobalProps {
    mainModule: typeof import("../worker/index");
  }
}
