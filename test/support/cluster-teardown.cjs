// jest globalTeardown: stops this run's control plane, if a test started one, and waits until the
// launcher has stopped its processes and removed their data.
const { existsSync, readFileSync, rmSync } = require('node:fs');
const { join } = require('node:path');

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

module.exports = async function clusterTeardown() {
  const runDir = process.env.BADGATEWAY_CLUSTER_RUN_DIR;
  if (!runDir) return;
  const pidFile = join(runDir, 'pid');
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8'));
    if (alive(pid)) process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 30_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
  rmSync(runDir, { recursive: true, force: true });
};
