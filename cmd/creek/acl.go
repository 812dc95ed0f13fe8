package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/creekmq/creek"
)

// aclFromFlags builds Config.ACL from creek serve's --acl, --super-users
// and --allow-if-no-acl; nil without --acl.
func aclFromFlags(on bool, superUsers string, allowIfNoACL bool) (*creek.ACLConfig, error) {
	if !on {
		if superUsers != "" || allowIfNoACL {
			return nil, errors.New("--super-users and --allow-if-no-acl go with --acl")
		}
		return nil, nil
	}
	cfg := &creek.ACLConfig{AllowIfNoACL: allowIfNoACL}
	if superUsers != "" {
		cfg.SuperUsers = strings.Split(superUsers, ",")
	}
	return cfg, nil
}

// aclFlags are creek acl's: one ACL binding for add, a filter of them for
// list and delete, where what is not given matches all.
type aclFlags struct {
	principal, host, operations, pattern *string
	topic, group, txnID                  *string
	cluster, deny                        *bool
}

func (f *aclFlags) add(fs *flag.FlagSet) {
	f.principal = fs.String("principal", "", "the principal, User:NAME (User:* for all); list, delete: any when not given")
	f.host = fs.String("host", "", "the client IP address; add: default * (any)")
	f.operations = fs.String("operation", "", "READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, CLUSTER_ACTION, "+
		"DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE or ALL, comma-separated")
	f.pattern = fs.String("pattern", "", "literal or prefixed; list, delete: also any or match; default literal for add, any otherwise")
	f.topic = fs.String("topic", "", "a topic name (* for all)")
	f.group = fs.String("group", "", "a group name (* for all)")
	f.txnID = fs.String("transactional-id", "", "a transactional ID (* for all)")
	f.cluster = fs.Bool("cluster", false, "the cluster")
	f.deny = fs.Bool("deny", false, "deny, not allow")
}

// resource returns the one resource the flags name, or for a filter Any
// when they name none.
func (f *aclFlags) resource(filter bool) (kmsg.ACLResourceType, string, error) {
	var kinds []kmsg.ACLResourceType
	var name string
	for t, n := range map[kmsg.ACLResourceType]string{kmsg.ACLResourceTypeTopic: *f.topic,
		kmsg.ACLResourceTypeGroup: *f.group, kmsg.ACLResourceTypeTransactionalId: *f.txnID} {
		if n != "" {
			kinds, name = append(kinds, t), n
		}
	}
	if *f.cluster {
		kinds, name = append(kinds, kmsg.ACLResourceTypeCluster), "kafka-cluster"
	}
	switch {
	case len(kinds) == 1:
		return kinds[0], name, nil
	case len(kinds) == 0 && filter:
		return kmsg.ACLResourceTypeAny, "", nil
	}
	return 0, "", errors.New("name one of --topic, --group, --transactional-id and --cluster")
}

// parseOperations parses --operation; none is Any for a filter.
func parseOperations(s string, filter bool) ([]kmsg.ACLOperation, error) {
	if s == "" {
		if filter {
			return []kmsg.ACLOperation{kmsg.ACLOperationAny}, nil
		}
		return nil, errors.New("--operation: name at least one")
	}
	var out []kmsg.ACLOperation
	for _, name := range strings.Split(s, ",") {
		op, err := kmsg.ParseACLOperation(strings.TrimSpace(name))
		if err != nil || op == kmsg.ACLOperationUnknown || op == kmsg.ACLOperationAny && !filter {
			return nil, fmt.Errorf("--operation %q: not an operation", name)
		}
		out = append(out, op)
	}
	return out, nil
}

// parsePattern parses --pattern.
func parsePattern(s string, filter bool) (kmsg.ACLResourcePatternType, error) {
	if s == "" {
		if filter {
			return kmsg.ACLResourcePatternTypeAny, nil
		}
		return kmsg.ACLResourcePatternTypeLiteral, nil
	}
	p, err := kmsg.ParseACLResourcePatternType(s)
	if err != nil || p == kmsg.ACLResourcePatternTypeUnknown ||
		!filter && p != kmsg.ACLResourcePatternTypeLiteral && p != kmsg.ACLResourcePatternTypePrefixed {
		return 0, fmt.Errorf("--pattern %q: literal or prefixed, or for a filter any or match", s)
	}
	return p, nil
}

func (f *aclFlags) permission(filter bool) kmsg.ACLPermissionType {
	switch {
	case *f.deny:
		return kmsg.ACLPermissionTypeDeny
	case filter:
		return kmsg.ACLPermissionTypeAny
	}
	return kmsg.ACLPermissionTypeAllow
}

// aclCommand runs creek acl add|delete|list: ACL bindings, through
// CreateAcls, DeleteAcls and DescribeAcls.
func aclCommand(ctx context.Context, args []string, io streams) error {
	var f aclFlags
	sub, rest, adm, err := adminSubcommand("acl", "add|delete|list [flags]", args, io, f.add)
	if err != nil {
		return err
	}
	defer adm.Close()
	if len(rest) > 0 {
		fmt.Fprintf(io.err, "creek acl %s takes flags only\n", sub)
		return errUsage
	}
	filter := sub != "add"
	t, name, err := f.resource(filter)
	if err != nil {
		return err
	}
	ops, err := parseOperations(*f.operations, filter)
	if err != nil {
		return err
	}
	pattern, err := parsePattern(*f.pattern, filter)
	if err != nil {
		return err
	}
	switch sub {
	case "add":
		if *f.principal == "" {
			return errors.New("--principal: name one, User:NAME")
		}
		host := *f.host
		if host == "" {
			host = "*"
		}
		req := kmsg.NewPtrCreateACLsRequest()
		for _, op := range ops {
			c := kmsg.NewCreateACLsRequestCreation()
			c.ResourceType, c.ResourceName, c.ResourcePatternType = t, name, pattern
			c.Principal, c.Host, c.Operation, c.PermissionType = *f.principal, host, op, f.permission(false)
			req.Creations = append(req.Creations, c)
		}
		resp, err := req.RequestWith(ctx, adm.raw)
		if err != nil {
			return err
		}
		var errs []error
		for _, r := range resp.Results {
			errs = append(errs, resultError(r.ErrorCode, r.ErrorMessage))
		}
		return done(io, errors.Join(errs...), "added %d ACL(s)", len(ops))
	case "list":
		var errs []error
		for _, op := range ops {
			req := kmsg.NewPtrDescribeACLsRequest()
			req.ResourceType, req.ResourcePatternType, req.Operation, req.PermissionType = t, pattern, op, f.permission(true)
			req.ResourceName, req.Principal, req.Host = optional(name), optional(*f.principal), optional(*f.host)
			resp, err := req.RequestWith(ctx, adm.raw)
			if err == nil {
				err = resultError(resp.ErrorCode, resp.ErrorMessage)
			}
			if err != nil {
				errs = append(errs, err)
				continue
			}
			for _, r := range resp.Resources {
				for _, a := range r.ACLs {
					fmt.Fprintf(io.out, "%s\t%s\t%s\t%s %s:%s\t%s\n", a.Principal, a.PermissionType, a.Operation,
						r.ResourcePatternType, r.ResourceType, r.ResourceName, a.Host)
				}
			}
		}
		return errors.Join(errs...)
	case "delete":
		req := kmsg.NewPtrDeleteACLsRequest()
		for _, op := range ops {
			rf := kmsg.NewDeleteACLsRequestFilter()
			rf.ResourceType, rf.ResourcePatternType, rf.Operation, rf.PermissionType = t, pattern, op, f.permission(true)
			rf.ResourceName, rf.Principal, rf.Host = optional(name), optional(*f.principal), optional(*f.host)
			req.Filters = append(req.Filters, rf)
		}
		resp, err := req.RequestWith(ctx, adm.raw)
		if err != nil {
			return err
		}
		var errs []error
		deleted := 0
		for _, r := range resp.Results {
			errs = append(errs, resultError(r.ErrorCode, r.ErrorMessage))
			deleted += len(r.MatchingACLs)
		}
		return done(io, errors.Join(errs...), "deleted %d ACL(s)", deleted)
	}
	fmt.Fprintf(io.err, "creek acl: unknown subcommand %q\n", sub)
	return errUsage
}

// optional is a filter's string: null, matching all, when empty.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// resultError returns a response's error, nil for code 0.
func resultError(code int16, message *string) error {
	err := kerr.ErrorForCode(code)
	if err != nil && message != nil && *message != "" {
		return fmt.Errorf("%w: %s", err, *message)
	}
	return err
}
