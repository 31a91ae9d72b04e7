"""The deployment workflow run offline: the state machine of template.yaml in
moto's Step Functions interpreter, its Lambda tasks served by the project's real
Lambda binaries, Personalize by personalize-local."""
