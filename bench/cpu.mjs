// CPU time of the local server (wrangler dev and its workerd: one process tree) and of the
// bench's own process, so a figure can be read per call: on a 2-core machine the load
// generator and the server share the cores, and CPU per call is what carries over to
// Cloudflare, where the server has its own.
import { readdirSync, readFileSync } from "node:fs";

const TICKS_PER_SECOND = 100; // Linux's USER_HZ

/** CPU ticks of `rootPid` and of every process below it, by pid, from /proc. */
export function treeCpuTicks(rootPid) {
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
  const ticks = new Map();
  const pending = [rootPid];
  while (pending.length > 0) {
    const pid = pending.pop();
    if (ticks.has(pid) || !processes.has(pid)) continue;
    ticks.set(pid, processes.get(pid).ticks);
    for (const [child, p] of processes) if (p.ppid === pid) pending.push(child);
  }
  return ticks;
}

/**
 * CPU seconds the tree used between two `treeCpuTicks` readings. A process started since
 * counts from zero; one that ended since is left out (wrangler dev restarts workerd when
 * its files change, so a bench must not edit the tree it measures).
 */
export function cpuSecondsBetween(before, after) {
  let ticks = 0;
  for (const [pid, t] of after) ticks += t - (before.get(pid) ?? 0);
  return ticks / TICKS_PER_SECOND;
}

/** Runs `task` and answers its result with the CPU µs per call it cost the server and this process. */
export async function withCpu(serverPid, calls, task) {
  const server = treeCpuTicks(serverPid);
  const own = process.cpuUsage();
  const result = await task();
  const ownUsed = process.cpuUsage(own);
  return {
    result,
    cpu: {
      serverUs: Math.round((cpuSecondsBetween(server, treeCpuTicks(serverPid)) * 1e6) / calls),
      clientUs: Math.round((ownUsed.user + ownUsed.system) / calls),
    },
  };
}
