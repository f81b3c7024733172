// sequor-deploy-check renders the deploy files the way the real tools do, without a Docker engine or a
// cluster, so the vitest deploy tests can check what they produce:
//
//	sequor-deploy-check compose <compose.yaml> <env-file>   the project as `docker compose config --format json`
//	                                                        prints it: loaded, interpolated and validated by
//	                                                        compose-go (the library docker compose uses), with
//	                                                        the Compose Specification JSON schema it embeds
//	sequor-deploy-check kustomize <dir>                     the YAML stream `kustomize build <dir>` prints
//
// Exit status 1 with the loader's message on stderr when a file is invalid. Built by install-tools.sh from
// the Go module proxy (versions pinned in go.mod / go.sum).
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/cli"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "sequor-deploy-check:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 3 && args[0] == "compose" {
		return compose(args[1], args[2])
	}
	if len(args) == 2 && args[0] == "kustomize" {
		return kustomize(args[1])
	}
	return fmt.Errorf("usage: sequor-deploy-check compose <compose.yaml> <env-file> | kustomize <dir>")
}

func compose(file, envFile string) error {
	abs, err := filepath.Abs(file)
	if err != nil {
		return err
	}
	// Only the env file: the result must not depend on the shell that runs the check.
	opts, err := cli.NewProjectOptions([]string{abs},
		cli.WithWorkingDirectory(filepath.Dir(abs)),
		cli.WithEnvFiles(envFile),
		cli.WithDotEnv,
		cli.WithConsistency(true),
		cli.WithResolvedPaths(false),
		cli.WithName("sequor"),
	)
	if err != nil {
		return err
	}
	project, err := opts.LoadProject(context.Background())
	if err != nil {
		return err
	}
	out, err := project.MarshalJSON()
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(append(out, '\n'))
	return err
}

func kustomize(dir string) error {
	resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return err
	}
	out, err := resources.AsYaml()
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(out)
	return err
}
