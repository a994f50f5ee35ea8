// Package vultr stands in for the upstream Vultr resource detector, whose module the Go
// module proxy available to this build does not serve. The resourcedetection
// processor links every detector; this one reports that it is not included.
package vultr

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/sdk/resource"
)

type detector struct{}

// NewResourceDetector returns a detector that always fails with a clear reason.
func NewResourceDetector() resource.Detector { return detector{} }

func (detector) Detect(context.Context) (*resource.Resource, error) {
	return nil, errors.New("the Vultr resource detector is not included in the ricecoder collector build")
}
