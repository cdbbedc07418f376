"""Turn the fp32 ONNX graph into a QDQ int8 graph with the onnx helper alone (no onnxruntime python).

Weights: per-output-channel symmetric int8. Activations: per-tensor uint8 from calibration ranges.
Biases: int32 at scale x_scale * w_scale, as onnxruntime's QDQ fusion expects, so Conv and Gemm run as
int8 kernels (QLinearConv / QGemm) after graph optimisation. The output stays float32.
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def uint8_params(lo, hi):
    """Asymmetric uint8 scale and zero point covering [lo, hi] (which always includes 0)."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = (hi - lo) / 255.0 if hi > lo else 1.0
    zp = int(np.clip(round(-lo / scale), 0, 255))
    return np.float32(scale), np.uint8(zp)


class QdqBuilder:
    def __init__(self, model):
        self.model = model
        self.graph = model.graph
        self.inits = {i.name: i for i in self.graph.initializer}
        self.new_nodes = []

    def add_init(self, name, array):
        t = numpy_helper.from_array(array, name)
        self.graph.initializer.append(t)
        self.inits[name] = t
        return name

    def qdq_activation(self, tensor, lo, hi):
        """tensor -> QuantizeLinear -> DequantizeLinear; returns the dequantized tensor's name."""
        scale, zp = uint8_params(lo, hi)
        s = self.add_init(f"{tensor}_scale", np.array(scale, np.float32))
        z = self.add_init(f"{tensor}_zp", np.array(zp, np.uint8))
        self.new_nodes += [
            helper.make_node("QuantizeLinear", [tensor, s, z], [f"{tensor}_q"], name=f"{tensor}_Q"),
            helper.make_node("DequantizeLinear", [f"{tensor}_q", s, z], [f"{tensor}_dq"], name=f"{tensor}_DQ"),
        ]
        return f"{tensor}_dq", float(scale)

    def qdq_weight(self, name, x_scale, bias_name=None):
        """Per-channel int8 weight (and int32 bias) behind DequantizeLinear nodes; returns new names."""
        w = numpy_helper.to_array(self.inits[name]).astype(np.float32)
        flat = np.abs(w.reshape(w.shape[0], -1)).max(1)
        w_scale = np.where(flat > 0, flat / 127.0, 1.0).astype(np.float32)
        shape = (-1,) + (1,) * (w.ndim - 1)
        wq = np.clip(np.round(w / w_scale.reshape(shape)), -127, 127).astype(np.int8)
        self._drop_init(name)
        q = self.add_init(f"{name}_q", wq)
        s = self.add_init(f"{name}_scale", w_scale)
        z = self.add_init(f"{name}_zp", np.zeros(w.shape[0], np.int8))
        self.new_nodes.append(helper.make_node("DequantizeLinear", [q, s, z], [f"{name}_dq"],
                                               name=f"{name}_DQ", axis=0))
        out = [f"{name}_dq"]
        if bias_name is not None:
            b = numpy_helper.to_array(self.inits[bias_name]).astype(np.float64)
            b_scale = (x_scale * w_scale.astype(np.float64)).astype(np.float32)
            bq = np.round(b / b_scale).astype(np.int32)
            self._drop_init(bias_name)
            q = self.add_init(f"{bias_name}_q", bq)
            s = self.add_init(f"{bias_name}_scale", b_scale)
            z = self.add_init(f"{bias_name}_zp", np.zeros(len(bq), np.int32))
            self.new_nodes.append(helper.make_node("DequantizeLinear", [q, s, z], [f"{bias_name}_dq"],
                                                   name=f"{bias_name}_DQ", axis=0))
            out.append(f"{bias_name}_dq")
        return out

    def _drop_init(self, name):
        self.graph.initializer.remove(self.inits.pop(name))


def quantize(fp32_path, out_path, ranges):
    """ranges: {tensor name: (lo, hi)} for every activation entering a Conv, GlobalAveragePool or Gemm,
    and for the GlobalAveragePool output."""
    model = onnx.load(fp32_path)
    q = QdqBuilder(model)
    g = model.graph
    nodes = list(g.node)
    rewired = []
    for node in nodes:
        if node.op_type in ("Conv", "Gemm"):
            x = node.input[0]
            x_dq, x_scale = q.qdq_activation(x, *ranges[x])
            wb = q.qdq_weight(node.input[1], x_scale, node.input[2] if len(node.input) > 2 else None)
            node.input[:] = [x_dq] + wb
        elif node.op_type == "GlobalAveragePool":
            x_dq, _ = q.qdq_activation(node.input[0], *ranges[node.input[0]])
            node.input[0] = x_dq
            # Quantize the pooled output too so onnxruntime runs the pool on uint8 (QLinearGlobalAveragePool).
            y = node.output[0]
            node.output[0] = f"{y}_pooled"
            scale, zp = uint8_params(*ranges[y])
            s = q.add_init(f"{y}_pool_scale", np.array(scale, np.float32))
            z = q.add_init(f"{y}_pool_zp", np.array(zp, np.uint8))
            q.new_nodes += [
                helper.make_node("QuantizeLinear", [f"{y}_pooled", s, z], [f"{y}_pq"], name=f"{y}_pool_Q"),
                helper.make_node("DequantizeLinear", [f"{y}_pq", s, z], [y], name=f"{y}_pool_DQ"),
            ]
        rewired.append(node)
    # Rebuild a topologically ordered node list: producers of each rewired input go first.
    produced = {o: n for n in q.new_nodes for o in n.output}
    ordered, placed = [], set()

    def place(n):
        if id(n) in placed:
            return
        for i in n.input:
            if i in produced:
                place(produced[i])
        placed.add(id(n))
        ordered.append(n)

    for n in rewired:
        place(n)
    del g.node[:]
    g.node.extend(ordered)
    onnx.checker.check_model(model)
    onnx.save(model, out_path)
    return model
