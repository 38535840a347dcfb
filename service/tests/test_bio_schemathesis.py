"""Schemathesis against the OpenAPI description: generated requests (valid and invalid) never get
a 5xx, and responses conform to the documented statuses and schemas.

The strategies are used with ``@given`` directly (schemathesis' pytest fixture loader relies on a
private pytest attribute that pytest 9 removed).
"""

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance
from tlsward_biometric.api import create_app


def test_api_conforms_to_its_openapi_description(service, bio_settings, certs):
    app = create_app(service, bio_settings)
    # a schema-violating body may be refused for its size (413) before it is parsed
    config = SchemathesisConfig.from_dict(
        {
            "checks": {
                "negative_data_rejection": {
                    "expected-statuses": [
                        "400",
                        "401",
                        "403",
                        "404",
                        "405",
                        "409",
                        "413",
                        "415",
                        "422",
                        "429",
                    ]
                }
            }
        }
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    calls = []

    def exercise(operation) -> None:
        positive = operation.as_strategy(GenerationMode.POSITIVE)
        strategy = positive | operation.as_strategy(GenerationMode.NEGATIVE)

        @given(case=strategy)
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case):
            # the client certificate headers are nginx's, not part of the public API description
            # positive_data_acceptance is excluded: JSON Schema cannot say "finite float32 values,
            # not all zero, as many as the modality's dimension", so schema-valid bodies can be a 422.
            # the subject routes are driven by an enroller (which may enrol, verify and delete),
            # the admin routes by an operator, so the matrix lets the requests through
            cert = certs.operator if "/admin/" in case.operation.label else certs.device_a
            response = case.call_and_validate(
                headers=cert.headers(), excluded_checks=[positive_data_acceptance]
            )
            calls.append((case.operation.label, response.status_code))
            assert response.status_code < 500

        run()

    # Every operation gets its own examples, so none is left out by chance.
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 9, [op.label for op in operations]
    for operation in operations:
        exercise(operation)
    assert {label for label, _ in calls} == {op.label for op in operations}
    assert any(200 <= status < 300 for _, status in calls)
