// SuiteCloud CLI project configuration (`suitecloud project:deploy` reads src/ from here).
module.exports = {
    defaultProjectFolder: 'src',
    commands: {},
};
