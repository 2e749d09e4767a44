const SuiteCloudJestConfiguration = require('@oracle/suitecloud-unit-testing/jest-configuration/SuiteCloudJestConfiguration');

const base = SuiteCloudJestConfiguration.build({
    projectFolder: 'src',
    projectType: SuiteCloudJestConfiguration.ProjectType.ACP,
});

module.exports = {
    ...base,
    rootDir: __dirname,
    // the SuiteCloud mapping is built from process.cwd(); pin it to this project wherever jest starts
    moduleNameMapper: {
        ...base.moduleNameMapper,
        '^SuiteScripts(.*)$': '<rootDir>/src/FileCabinet/SuiteScripts$1',
    },
    roots: [__dirname],
    // our tests, and the harness engineer's tests in harness/
    testMatch: ['<rootDir>/__tests__/**/*.test.js', '<rootDir>/harness/**/*.test.js'],
    testPathIgnorePatterns: ['/node_modules/'],
    clearMocks: true,
};
