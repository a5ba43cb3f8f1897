package playbook

import (
	"os"
	"path/filepath"

	"github.com/ordercare/ordercare/internal/care"
)

// defaultTemplate reads a workflow's default template from its folder,
// workflows/<name>/template.json (the workflows package cannot be imported
// here: it imports the kernel, which imports playbook).
func defaultTemplate(wf care.Workflow) ([]byte, error) {
	return os.ReadFile(filepath.Join("..", "..", "workflows", string(wf), "template.json"))
}
