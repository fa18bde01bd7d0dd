"""PDF: references to exercises in other chapters print "Exercise N", not "Exercise ??".

sphinx-exercise labels an exercise in LaTeX as ``exercise:LABEL`` and resolves references within
a page itself, but a ``{numref}`` from another page (the instructors' table of assignments) is left
to Sphinx, whose LaTeX writer points it at ``DOCNAME:LABEL`` and asks LaTeX for its number with
``\\ref``, a label that does not exist: every such reference printed "??". Before Sphinx resolves
references, this post-transform replaces each of them, in a LaTeX build only, by a hyperlink to
``exercise:LABEL`` whose text carries the exercise's number as the HTML book shows it.
"""
from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.transforms.post_transforms import SphinxPostTransform


class ExerciseNumrefForLatex(SphinxPostTransform):
    default_priority = 5  # before sphinx-exercise (5, stable order) and Sphinx's resolver (10)
    formats = ("latex",)

    def run(self):
        registry = getattr(self.env, "sphinx_exercise_registry", {})
        for node in list(self.document.findall(pending_xref)):
            label = node.get("reftarget")
            if node.get("reftype") != "numref" or label not in registry:
                continue
            target = registry[label]
            number = self._number(target)
            if number is None:
                continue
            text = self.app.config.numfig_format.get("exercise", "Exercise %s") % number
            node.replace_self(nodes.raw("", r"\hyperref[exercise:%s]{%s}" % (label, text), format="latex"))

    def _number(self, target):
        exercise = target.get("node")
        ids = exercise.get("ids", []) if exercise is not None else []
        numbers = self.env.toc_fignumbers.get(target.get("docname"), {}).get("exercise", {})
        for node_id in ids:
            if node_id in numbers:
                return ".".join(map(str, numbers[node_id]))
        return None


def setup(app):
    app.add_post_transform(ExerciseNumrefForLatex)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
