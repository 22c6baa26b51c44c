'use strict';
// The helpers live in helpers.ts (compiled to dist-test/ by `npm test`); plain JS
// tests still in test/ get the same module (and the same private temp dir) here.
module.exports = require('../dist-test/helpers.js');
