// n8n loads the nodes and credentials listed in package.json "n8n"; this entry point exists for tools
// that require the package directly and exposes nothing else.
module.exports = {};
