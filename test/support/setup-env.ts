// The SDK's once-per-process notice that its 2027 releases need Node 22 repeats in every test worker.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
