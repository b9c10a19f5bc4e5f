// jest globalSetup: a folder for this run's real control plane, which the first test file that
// needs one starts (test/support/cluster.ts); workers inherit these variables.
const { mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

module.exports = async function clusterSetup() {
  if (process.env.BADGATEWAY_TEST_KUBECONFIG) return; // a cluster the developer runs
  process.env.BADGATEWAY_CLUSTER_RUN_DIR = mkdtempSync(join(tmpdir(), 'badgateway-jest-cluster-'));
  process.env.BADGATEWAY_CLUSTER_PARENT_PID = String(process.pid);
};
