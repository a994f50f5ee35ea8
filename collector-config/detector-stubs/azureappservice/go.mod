module go.opentelemetry.io/contrib/detectors/azure/azureappservice

go 1.24

require go.opentelemetry.io/otel/sdk v1.46.0
