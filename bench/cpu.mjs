// CPU time of the local server (wrangler dev and its workerd: one process tree) and of the
// bench's own process, so a figure can be read per call: on a 2-core machine the load
// generator and the server share the cores, and CPU per call is what carries over to
// Cloudflare, where the server has its own.
import { readdirSync, readFileSync } from "node:fs";

const TICKS_PER_SECOND = 100; // Linux's USER_HZ

/** CPU seconds (user + system) of `rootPid` and every process below it, from /proc. */
export function treeCpuSeconds(rootPid) {
  const processes = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // After "pid (comm) ": state, ppid, …; utime and stime are the 12th and 13th fields.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      processes.set(Number(entry), {
        ppid: Number(fields[1]),
        ticks: Number(fields[11]) + Number(fields[12]),
      });
    } catch {
      // the process ended while we read
    }
  }
  let ticks = 0;
  const pending = [rootPid];
  const seen = new Set();
  while (pending.length > 0) {
    const pid = pending.pop();
    if (seen.has(pid)) continue;
    seen.add(pid);
    ticks += processes.get(pid)?.ticks ?? 0;
    for (const [child, p] of processes) if (p.ppid === pid) pending.push(child);
  }
  return ticks / TICKS_PER_SECOND;
}

/** Runs `task` and answers its result with the CPU µs per call it cost the server and this process. */
export async function withCpu(serverPid, calls, task) {
  const server = treeCpuSeconds(serverPid);
  const own = process.cpuUsage();
  const result = await task();
  const ownUsed = process.cpuUsage(own);
  return {
    result,
    cpu: {
      serverUs: Math.round(((treeCpuSeconds(serverPid) - server) * 1e6) / calls),
      clientUs: Math.round((ownUsed.user + ownUsed.system) / calls),
    },
  };
}
