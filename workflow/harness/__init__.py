"""The whole pipeline offline, for the end-to-end tests, ./scripts/local-run
and the benchmarks.

- moto (in this process, with its Step Functions interpreter enabled) plays S3,
  SNS, SQS, EventBridge and Step Functions; a ThreadedMotoServer in the same
  process lets the Rust Lambdas reach the same state over HTTP
  (services.MotoServer);
- the state machine is the definition of template.yaml, its ARNs substituted
  (services.StackResources);
- its Lambda tasks go over the Lambda Invoke API to a local Lambda host
  (lambda_host.LambdaHost) that runs the project's real Lambda binaries under a
  fake Runtime API (runtime_api.RuntimeApi), with real Lambda semantics (200 +
  X-Amz-Function-Error and {errorType, errorMessage});
- Personalize is personalize-local (services.PersonalizeLocal);
- notifications are observed through SQS queues subscribed to the topic and
  targeted by an EventBridge rule (services.StackResources);
- Wait states and Retry intervals are shortened by `time_scale` without
  changing the definition (time_scaling.ShortWaits);
- local_workflow.LocalWorkflow starts all of it as one context manager;
  names.py says where things are and what they are called, events.py builds
  the inputs, http_server.py is the HTTP server the two fake Lambda APIs share.

Import from the modules themselves: the benchmarks take the Runtime API and
the services without moto's mock coming along.
"""
