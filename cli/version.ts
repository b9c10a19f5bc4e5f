/** `badgateway --version`; test/cli/version.test.ts keeps it equal to package.json's and the chart's appVersion. */
export const VERSION = '0.1.0';
