"""Why a member or the ensemble voted as it did: scores per stored time step (occlusion, integrated
gradients, pooling attention), how faithful each score is (deletion curves), where they fall on
the decoded frames, and Grad-CAM through the frozen backbone for the frames themselves."""
