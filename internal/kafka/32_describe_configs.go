package kafka

import (
	"context"
	"slices"
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek/internal/acl"
)

// DescribeConfigs, versions 0–4: topic configs, each marked as set on the
// topic or a default, and broker configs (resource type 4, any broker
// name: each node answers for itself): the node's settings under the
// names of Kafka's broker configs, read-only, as static broker configs.
// With an authorizer, a topic's configs need DESCRIBE_CONFIGS on the topic
// (TOPIC_AUTHORIZATION_FAILED), a broker's on the cluster
// (CLUSTER_AUTHORIZATION_FAILED).

func serveDescribeConfigs(ctx context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.DescribeConfigsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeConfigsResponse)
	for _, res := range req.Resources {
		out := kmsg.NewDescribeConfigsResponseResource()
		out.ResourceType, out.ResourceName = res.ResourceType, res.ResourceName
		if code := s.configsRefused(ctx, acl.DescribeConfigs, res.ResourceType, res.ResourceName); code != 0 {
			out.ErrorCode = code
			resp.Resources = append(resp.Resources, out)
			continue
		}
		switch res.ResourceType {
		case kmsg.ConfigResourceTypeTopic:
			configs, explicit, err := s.broker.TopicConfigs(res.ResourceName)
			if err != nil {
				out.ErrorCode = s.broker.ErrorCode(err)
				out.ErrorMessage = errorMessage(err)
			}
			out.Configs = describeConfigs(configs, res.ConfigNames, func(c *kmsg.DescribeConfigsResponseResourceConfig) {
				c.IsDefault = !explicit[c.Name]
				c.Source = configSource(explicit[c.Name])
			})
		case kmsg.ConfigResourceTypeBroker:
			out.Configs = describeConfigs(s.broker.BrokerConfigs(), res.ConfigNames, func(c *kmsg.DescribeConfigsResponseResourceConfig) {
				c.ReadOnly = true
				c.Source = kmsg.ConfigSourceStaticBrokerConfig
			})
		}
		resp.Resources = append(resp.Resources, out)
	}
	return resp
}

// configsRefused returns the error code refusing the request's principal
// op (DESCRIBE_CONFIGS, ALTER_CONFIGS) on a config resource, 0 when it
// may: a topic's needs op on the topic (TOPIC_AUTHORIZATION_FAILED), a
// broker's on the cluster (CLUSTER_AUTHORIZATION_FAILED).
func (s *Server) configsRefused(ctx context.Context, op acl.Operation, t kmsg.ConfigResourceType, name string) int16 {
	switch {
	case t == kmsg.ConfigResourceTypeTopic && !s.may(ctx, op, acl.Topic, name):
		return kerr.TopicAuthorizationFailed.Code
	case t == kmsg.ConfigResourceTypeBroker && !s.mayCluster(ctx, op):
		return kerr.ClusterAuthorizationFailed.Code
	}
	return 0
}

// describeConfigs describes configs, those named only unless names is
// nil, in name order, each marked by mark.
func describeConfigs(configs map[string]string, names []string, mark func(*kmsg.DescribeConfigsResponseResourceConfig)) []kmsg.DescribeConfigsResponseResourceConfig {
	var out []kmsg.DescribeConfigsResponseResourceConfig
	for _, name := range sortedKeys(configs) {
		if names != nil && !slices.Contains(names, name) {
			continue
		}
		c := kmsg.NewDescribeConfigsResponseResourceConfig()
		value := configs[name]
		c.Name, c.Value = name, &value
		mark(&c)
		out = append(out, c)
	}
	return out
}

// configSource says where a topic config's value comes from.
func configSource(explicit bool) kmsg.ConfigSource {
	if explicit {
		return kmsg.ConfigSourceDynamicTopicConfig
	}
	return kmsg.ConfigSourceDefaultConfig
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
